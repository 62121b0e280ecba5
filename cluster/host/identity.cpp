#include "cluster/host/identity.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace troupe::host {
namespace fs = std::filesystem;

namespace {

// 128 random bits as 32 hex digits.
std::string random_id() {
  std::random_device rd;
  char id[33];
  for (int i = 0; i < 4; ++i) std::snprintf(id + 8 * i, 9, "%08x", static_cast<unsigned>(rd()));
  return id;
}

}  // namespace

data_dir::data_dir(std::string path) {
  std::error_code ec;
  path_ = fs::absolute(path, ec).lexically_normal().string();
  if (!path_.empty() && path_.back() == '/') path_.pop_back();
  fs::create_directories(path_, ec);
  if (ec) throw identity_error("cannot create data dir " + path_ + ": " + ec.message());
  auto lock_path = path_ + "/lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) throw identity_error("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw identity_error("data dir " + path_ + " is in use by another trouped");
  }
}

data_dir::~data_dir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::string data_dir::read_file(const std::string& name) const {
  std::ifstream in(path_ + "/" + name);
  std::string content;
  std::getline(in, content);
  return content;
}

void data_dir::write_file(const std::string& name, const std::string& content) const {
  auto final_path = path_ + "/" + name;
  auto tmp_path = final_path + ".tmp";
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw identity_error("cannot write " + tmp_path + ": " + std::strerror(errno));
  auto line = content + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp_path.c_str(), final_path.c_str()) != 0)
    throw identity_error("cannot write " + final_path + ": " + std::strerror(errno));
  // The rename itself must be durable too, or a power cut could bring an old incarnation back.
  int dir_fd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!synced) throw identity_error("cannot sync " + path_ + ": " + std::strerror(errno));
}

std::string data_dir::node_id() {
  auto id = read_file("node_id");
  if (id.empty()) {
    id = random_id();
    write_file("node_id", id);
  }
  return id;
}

uint64_t data_dir::next_incarnation() {
  uint64_t current = 0;
  auto text = read_file("incarnation");
  if (!text.empty()) {
    try {
      current = std::stoull(text);
    } catch (const std::exception&) {
      throw identity_error(path_ + "/incarnation is corrupt: `" + text + "`");
    }
  }
  write_file("incarnation", std::to_string(current + 1));
  return current + 1;
}

}  // namespace troupe::host
