#include "cluster/host/identity.hpp"

#include "cluster/host/atomic_file.hpp"

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
  try {
    write_file_atomically(path_ + "/" + name, content + "\n", 0644);
  } catch (const file_error& e) {
    throw identity_error(e.what());
  }
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
