// The head's copy of one task attempt's output. The node sends stdout and stderr in chunks that
// carry their offset in their stream; each stream's bytes are appended once and in order (a
// chunk resent after a reconnection is skipped where it was seen), both streams interleaved in
// one file as they arrive. Plain file I/O, used by the job service alone.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "messages/jobs.hpp"

namespace troupe::job_service {

class task_log {
 public:
  task_log() = default;
  // The log at `path`; a file already there (a restarted head) counts with its size, looked at
  // the first time it matters (a head recovering many attempts reads no file it does not need).
  explicit task_log(std::string path) : path_(std::move(path)) {}

  // Appends what of `data`, at `offset` in `stream`, has not arrived yet. A file that cannot
  // be written is logged and the chunk dropped.
  void append(msg::log_stream stream, uint64_t offset, const std::string& data);
  // At most `max` bytes from `offset` (fewer at the end).
  std::string read(uint64_t offset, uint64_t max) const;
  uint64_t size() const;
  // Whether both streams arrived up to these lengths.
  bool has_all(uint64_t stdout_bytes, uint64_t stderr_bytes) const {
    return received_[0] >= stdout_bytes && received_[1] >= stderr_bytes;
  }

 private:
  std::string path_;
  std::array<uint64_t, 2> received_{};    // per stream: bytes appended
  mutable std::optional<uint64_t> size_;  // the file's size, once looked at
};

}  // namespace troupe::job_service
