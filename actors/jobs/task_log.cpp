#include "actors/jobs/task_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cstring>
#include <filesystem>

namespace troupe::job_service {

uint64_t task_log::size() const {
  if (!size_) {
    struct stat file {};
    size_ = ::stat(path_.c_str(), &file) == 0 ? static_cast<uint64_t>(file.st_size) : 0;
  }
  return *size_;
}

void task_log::append(msg::log_stream stream, uint64_t offset, const std::string& data) {
  auto& received = received_[static_cast<size_t>(stream)];
  if (offset + data.size() <= received) return;  // seen before
  const auto skip = offset < received ? received - offset : 0;
  if (size() == 0) {  // the first chunk: the job's folder may not exist yet
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ignored);
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    spdlog::warn("cannot write the log {}: {}", path_, std::strerror(errno));
    return;
  }
  const auto size = data.size() - skip;
  if (::write(fd, data.data() + skip, size) == static_cast<ssize_t>(size)) {
    *size_ += size;
    received = offset + data.size();
  }
  ::close(fd);
}

std::string task_log::read(uint64_t offset, uint64_t max) const {
  if (offset >= size()) return {};
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string data(std::min(max, size() - offset), '\0');
  const auto n = ::pread(fd, data.data(), data.size(), static_cast<off_t>(offset));
  data.resize(n > 0 ? static_cast<size_t>(n) : 0);
  ::close(fd);
  return data;
}

}  // namespace troupe::job_service
