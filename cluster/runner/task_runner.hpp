// Runs task attempts as child processes on this node and reports their output and exit.
//
// Each attempt gets one thread that forks its process, watches it and reaps it: the
// parent-death signal follows the forking thread, so that thread lives until the child is
// reaped. The process runs in its own process group; when its leader ends, whatever is left of
// the group is killed, so no task leaves processes behind (short of a process that leaves the
// group with setsid). When the daemon dies, its group guard (group_guard.hpp) kills the running
// tasks' groups. A task's stdout and stderr are pipes its thread reads as they fill; a task that
// exits by itself with a code other than 0 ends with the reason "exit code N: <the last line it
// wrote to stderr>" (at most 300 bytes of it; no reason when it wrote none). Files under
// options.dir:
//   output.log          what every task wrote, by attempt (output_log.hpp)
//   work/<attempt id>/  an attempt's working dir when the launch names none
//   work/.spare-N/      ended attempts' working dirs left empty, for the next (work_dirs.hpp)
//   running             the process groups of running attempts (group_records.hpp)
// The daemon must not reap children it did not start (no waitpid(-1), SIGCHLD not ignored).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/jobs/job_model.hpp"
#include "cluster/runner/group_records.hpp"
#include "cluster/runner/output_log.hpp"

namespace troupe::runner {

// The largest chunk `output` is called with.
inline constexpr size_t max_output_chunk = 64 * 1024;

// Called from the runner's threads, possibly at once for different attempts, and must not
// block long. For one attempt, in order: `started` (not when it could not start), `output` with
// every byte it wrote in order, then `finished` exactly once.
struct runner_callbacks {
  // master_port: the MASTER_PORT the runner picked, 0 when the launch did not ask for one.
  std::function<void(const std::string& attempt_id, pid_t pid, uint16_t master_port)> started;
  // offset: where `data` starts in that stream of the attempt.
  std::function<void(const std::string& attempt_id, log_stream stream, uint64_t offset,
                     std::string data)>
      output;
  std::function<void(const std::string& attempt_id, const jobs::task_exit& exit)> finished;
};

// The working directory an attempt runs in: the launch's, else work/<attempt id> in `tasks_dir`.
std::string work_dir_of(const std::string& tasks_dir, const jobs::task_launch& launch);

struct runner_options {
  std::string dir;                               // tasks' directories, output log and records
  std::chrono::milliseconds kill_grace{3000};    // from SIGTERM to SIGKILL
  std::chrono::milliseconds memory_sample{200};  // how often a memory limit is checked
};

class task_runner {
 public:
  // Creates options.dir and its folders and kills what an earlier daemon's tasks left running
  // there (kill_leftover_tasks); throws std::runtime_error when the dir is unusable.
  task_runner(runner_options options, runner_callbacks callbacks);
  // SIGKILLs every task's group and waits until each has finished (reason "node stopping").
  ~task_runner();
  task_runner(const task_runner&) = delete;
  task_runner& operator=(const task_runner&) = delete;

  // Starts an attempt; a start of an attempt id that is running is ignored. Problems (a bad
  // attempt id, no such program, a bad workdir) come back through `finished` with the reason
  // "could not start: <why>".
  void start(const jobs::task_launch& launch);

  // SIGTERM to the attempt's group, SIGKILL after kill_grace; `finished` carries `reason`
  // ("cancelled" when empty) unless the attempt was already being killed for another. Unknown
  // or finished attempts are ignored.
  void kill(const std::string& attempt_id, std::string reason);

  // The attempts whose leftover processes the constructor killed, for the daemon's log.
  const std::vector<std::string>& leftovers_killed() const;

  // Attempts started whose `finished` has not returned yet (so a report of what runs, taken
  // while `finished` is under way, still names the attempt rather than losing it).
  std::vector<std::string> running() const;

  struct shared_state;

 private:
  std::shared_ptr<shared_state> state_;
};

}  // namespace troupe::runner
