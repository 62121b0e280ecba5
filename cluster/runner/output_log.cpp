#include "cluster/runner/output_log.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace troupe::runner {

output_log::output_log(const std::string& path)
    : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
  if (fd_ < 0)
    throw std::runtime_error("cannot open " + path + ": " + std::generic_category().message(errno));
}

output_log::~output_log() { ::close(fd_); }

void output_log::append(const std::string& attempt_id, log_stream stream, uint64_t offset,
                        const std::string& data) const {
  auto header = attempt_id + (stream == log_stream::out ? " stdout " : " stderr ") +
                std::to_string(offset) + " " + std::to_string(data.size()) + "\n";
  char end = '\n';
  iovec parts[3] = {
      {header.data(), header.size()}, {const_cast<char*>(data.data()), data.size()}, {&end, 1}};
  ssize_t ignored = ::writev(fd_, parts, 3);
  (void)ignored;
}

}  // namespace troupe::runner
