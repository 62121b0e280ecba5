// What the runner's tests share: a temp dir, a recorder of the runner's callbacks with bounded
// waits on them, and probes of processes through /proc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster/jobs/job_model.hpp"
#include "cluster/runner/task_runner.hpp"
#include "tests/unit/temp_dir.hpp"

namespace troupe::runner::test {

using troupe::test::temp_dir;

// Everything the runner reported about one attempt.
struct attempt_report {
  std::optional<pid_t> pid;
  uint16_t master_port = 0;
  std::string out, err;
  size_t largest_chunk = 0;
  bool output_in_order = true;    // each chunk started where the previous one of its stream ended
  bool output_after_end = false;  // a chunk came after `finished`
  int finished_count = 0;
  std::optional<jobs::task_exit> exit;
};

class recorder {
 public:
  runner_callbacks callbacks();
  // The attempt's exit, waiting up to `limit` for it; fails the test when it does not come.
  jobs::task_exit wait_finished(const std::string& attempt_id,
                                std::chrono::seconds limit = std::chrono::seconds(30));
  // Waits up to `limit` until `ready` holds for the attempt's report; returns whether it did.
  bool wait_until(const std::string& attempt_id,
                  const std::function<bool(const attempt_report&)>& ready,
                  std::chrono::seconds limit = std::chrono::seconds(30));
  attempt_report report(const std::string& attempt_id);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, attempt_report> reports_;
};

// Options for tests: a short kill grace and frequent samples, so that tests end quickly.
runner_options test_options(const std::string& dir);

jobs::task_launch program_task(const std::string& attempt_id, std::vector<std::string> argv);
jobs::task_launch shell_task(const std::string& attempt_id, const std::string& script);

// How an attempt ended, as text for readable test failures: "exit 3", "signal 9" or
// "no process" (it could not start).
std::string ending(const jobs::task_exit& exit);
std::string exited(int code);
std::string killed_by(int signal);

// Whether the process exists and is not a zombie.
bool alive(pid_t pid);

// Polls `condition` every few milliseconds for up to `limit`; returns whether it came true.
bool eventually(const std::function<bool()>& condition,
                std::chrono::seconds limit = std::chrono::seconds(10));

}  // namespace troupe::runner::test
