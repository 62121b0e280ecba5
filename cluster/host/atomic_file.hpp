// Files replaced atomically and durably: written to a temporary beside the target, fsynced,
// renamed over it, and the directory fsynced, so a crash leaves the old or the new content,
// never a torn file.
#pragma once

#include <sys/types.h>
#include <stdexcept>
#include <string>

namespace troupe::host {

struct file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Replaces `path` with `content`, created with permission bits `mode` (e.g. 0600 for secrets).
void write_file_atomically(const std::string& path, const std::string& content, mode_t mode);

// The whole file; throws file_error when it cannot be read.
std::string read_whole_file(const std::string& path);

}  // namespace troupe::host
