#include "cluster/artifacts/staged_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace troupe::artifacts {
namespace {

msg::error failed(const std::string& what, const std::string& path, int err) {
  return {msg::error_code::internal, "cannot " + what + " " + path + ": " + std::strerror(err)};
}

}  // namespace

staged_file::staged_file(std::string temp_path) : temp_path_(std::move(temp_path)) {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) open_errno_ = errno;
}

staged_file::~staged_file() {
  if (fd_ >= 0) ::close(fd_);
  if (!published_ && open_errno_ == 0) ::unlink(temp_path_.c_str());
}

std::optional<msg::error> staged_file::write(std::string_view bytes) {
  if (fd_ < 0) return failed("create", temp_path_, open_errno_);
  while (!bytes.empty()) {
    const auto n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed("write", temp_path_, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return std::nullopt;
}

std::optional<msg::error> staged_file::publish(const std::string& final_path) {
  if (fd_ < 0) return failed("create", temp_path_, open_errno_);
  if (::fsync(fd_) != 0) return failed("sync", temp_path_, errno);
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path.c_str()) != 0)
    return failed("rename into", final_path, errno);
  published_ = true;
  const auto dir = std::filesystem::path(final_path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
  const int err = errno;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!synced) return failed("sync", dir, err);
  return std::nullopt;
}

std::optional<std::string> read_at(int fd, uint64_t offset, size_t size) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    const auto n = ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace troupe::artifacts
