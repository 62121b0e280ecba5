// The node's copy of what its tasks wrote: one append-only file for all of them, so that a task
// makes no file of its own (on ext4 each inode made costs milliseconds next to many recently
// freed ones). The node writes it from what it reads of the tasks' pipes; no task holds it open.
//
// Format: chunks in the order they were read, each a header line
//   <attempt id> <stdout|stderr> <offset> <length>\n
// then `length` bytes (at `offset` in that attempt's stream) and a '\n'. A chunk is one write
// to a file opened O_APPEND, so chunks of tasks read at once never interleave. Not fsynced: it
// is a copy for the node's operator; the head keeps the copy users read.
#pragma once

#include <cstdint>
#include <string>

namespace troupe::runner {

enum class log_stream { out, err };

class output_log {
 public:
  // Opens (creating it when absent) the file at `path`; throws std::runtime_error when it cannot.
  explicit output_log(const std::string& path);
  ~output_log();
  output_log(const output_log&) = delete;
  output_log& operator=(const output_log&) = delete;

  // Appends one chunk; safe from several threads at once. A failed write (a full disk) loses the
  // chunk here only: the caller still forwards it.
  void append(const std::string& attempt_id, log_stream stream, uint64_t offset,
              const std::string& data) const;

 private:
  int fd_ = -1;
};

}  // namespace troupe::runner
