// Records of the process groups that run tasks, one file per running attempt in
// <dir>/running (named by the attempt id, holding the group id), so that a daemon restarted
// after a crash can kill what its predecessor left: the parent-death signal kills a task's
// own process, not the processes it started.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace troupe::runner {

// Empty on success, else why the record could not be written.
std::string record_group(const std::string& dir, const std::string& attempt_id, pid_t pgid);
void forget_group(const std::string& dir, const std::string& attempt_id);

// Kills (SIGKILL) every recorded group that still has a live process carrying its attempt's
// TROUPE_ATTEMPT_ID (so a group id the system has since given to an unrelated process group
// is left alone), waits (up to 5 s) for their processes to end, and removes every record.
// Call it when the daemon starts, before it runs tasks. Returns the attempt ids whose groups
// it killed.
std::vector<std::string> kill_leftover_tasks(const std::string& dir);

}  // namespace troupe::runner
