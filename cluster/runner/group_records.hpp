// Records of the process groups that run tasks, so that a daemon restarted after a crash can
// kill what its predecessor left: the parent-death signal kills a task's own process, not the
// processes it started, and the group guard (group_guard.hpp) that kills those may be gone too.
//
// One file, <dir>/running, of fixed-size slots, one per running attempt ("<pgid> <attempt id>"),
// written in place and zeroed when the attempt ends. No file is created or removed per task:
// on ext4, creating inodes next to many recently deleted ones costs milliseconds each.
// Not fsynced: the records must survive the daemon's crash, not the machine's, which ends the
// tasks too.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

namespace troupe::runner {

// The longest attempt id a slot holds.
inline constexpr size_t max_attempt_id_size = 200;

class group_records {
 public:
  // Creates or empties <dir>/running: call kill_leftover_tasks(dir) first. Throws
  // std::runtime_error when the file cannot be opened.
  explicit group_records(const std::string& dir);
  ~group_records();
  group_records(const group_records&) = delete;
  group_records& operator=(const group_records&) = delete;

  // The slot now holding the attempt's group, or why it could not be written.
  std::variant<size_t, std::string> add(const std::string& attempt_id, pid_t pgid);
  void remove(size_t slot);

 private:
  int fd_ = -1;
  std::mutex mutex_;
  std::vector<size_t> free_slots_;
  size_t slot_count_ = 0;
};

// Kills (SIGKILL) every recorded group that still has a live process carrying its attempt's
// TROUPE_ATTEMPT_ID (so a group id the system has since given to an unrelated process group
// is left alone), waits (up to 5 s) for their processes to end, and empties the records.
// Returns the attempt ids whose groups it killed.
std::vector<std::string> kill_leftover_tasks(const std::string& dir);

}  // namespace troupe::runner
