// A file written in pieces and made visible at once: bytes go to a temporary, and publish()
// fsyncs it, renames it over its final path and fsyncs that directory, so a crash leaves no
// torn file under the final name. A temporary never published is removed with this object.
// Errors are values (msg::error, code internal) naming the file.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "messages/error.hpp"

namespace troupe::artifacts {

class staged_file {
 public:
  // Creates (truncates) `temp_path`, mode 0600; a failure is reported by the first call.
  explicit staged_file(std::string temp_path);
  ~staged_file();
  staged_file(const staged_file&) = delete;
  staged_file& operator=(const staged_file&) = delete;

  std::optional<msg::error> write(std::string_view bytes);
  std::optional<msg::error> publish(const std::string& final_path);

 private:
  std::string temp_path_;
  int fd_ = -1;
  int open_errno_ = 0;
  bool published_ = false;
};

// Reads `size` bytes at `offset`, fewer only at the end of the file; nullopt on an error.
std::optional<std::string> read_at(int fd, uint64_t offset, size_t size);

}  // namespace troupe::artifacts
