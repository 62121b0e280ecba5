// The job model shared by the head (spec parsing, scheduler, job service, store) and the
// nodes (the task runner): a job's spec, its states, and what a node runs for one task.
// Plain values only; the wire mirrors live in messages/jobs.hpp, the rows in the store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::jobs {

// PENDING -> SCHEDULED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED, with RETRYING between
// attempts (docs/jobs.md draws it).
enum class job_state { pending, scheduled, running, retrying, succeeded, failed, cancelled };

// One attempt of one task: placed on a node, then started there, then ended.
enum class attempt_state { scheduled, running, succeeded, failed, cancelled, lost };

std::string_view to_string(job_state s);                       // "PENDING", ...
std::string_view to_string(attempt_state s);                   // "SCHEDULED", ...
std::optional<job_state> parse_job_state(std::string_view s);  // case-insensitive
std::optional<attempt_state> parse_attempt_state(std::string_view s);
bool is_final(job_state s);
bool is_final(attempt_state s);

// What one task asks of the node it runs on.
struct resource_request {
  double cpus = 1;
  uint64_t memory_mb = 0;  // 0: no memory asked, no limit enforced
  uint32_t gpus = 0;
  std::map<std::string, std::string> labels;  // the node must carry every one
  bool operator==(const resource_request& o) const {
    return cpus == o.cpus && memory_mb == o.memory_mb && gpus == o.gpus && labels == o.labels;
  }
};

struct retry_policy {
  uint32_t max = 0;      // further attempts after the first fails
  double backoff_s = 1;  // wait before each retry
  bool operator==(const retry_policy& o) const { return max == o.max && backoff_s == o.backoff_s; }
};

// A validated job spec (cluster/jobs/job_spec.hpp parses one). The fields every kind has are
// members; the kind's own fields (for `command`: argv or shell, env, workdir) are in
// `kind_fields`, validated by the kind.
struct job_spec {
  std::string name;
  std::string kind;
  std::string tenant = "default";
  int32_t priority = 0;        // higher runs first
  resource_request resources;  // per task
  uint32_t tasks = 1;          // a gang: all placed and started together, or none yet
  // An elastic gang (train's `elastic`): a round may run on as few as this many tasks when no
  // placement of all of them exists; 0: every round runs all `tasks`.
  uint32_t min_tasks = 0;
  retry_policy retries;
  uint64_t timeout_s = 0;          // per attempt; 0: none
  std::vector<std::string> after;  // job ids that must succeed first
  nlohmann::json kind_fields = nlohmann::json::object();
  bool operator==(const job_spec& o) const {
    return name == o.name && kind == o.kind && tenant == o.tenant && priority == o.priority &&
           resources == o.resources && tasks == o.tasks && min_tasks == o.min_tasks &&
           retries == o.retries && timeout_s == o.timeout_s && after == o.after &&
           kind_fields == o.kind_fields;
  }
  // The fewest tasks a round of the job may run.
  uint32_t fewest_tasks() const { return min_tasks == 0 ? tasks : min_tasks; }
};

// What a node runs for one task attempt: built on the head by the job's kind, carried by
// StartTaskRequest, run by the node's task runner. The runner adds CUDA_VISIBLE_DEVICES from
// `gpus`, OMP/OPENBLAS/MKL_NUM_THREADS from `cpus`, and MASTER_PORT when it picks the port.
struct task_launch {
  std::string attempt_id;                                // "<job id>.<task index>.<attempt number>"
  std::vector<std::string> argv;                         // argv[0] is looked up in PATH
  std::vector<std::pair<std::string, std::string>> env;  // over the daemon's own environment
  std::string workdir;  // empty: the task's own directory in the node's data dir
  double cpus = 1;
  uint64_t memory_limit_mb = 0;   // 0: none
  uint64_t timeout_ms = 0;        // 0: none
  std::vector<uint32_t> gpus;     // device indices given to this task
  bool pick_master_port = false;  // task 0 of a gang: bind a free port, export MASTER_PORT
  // The task is a rank: the node makes it a key of role rank for this attempt and exports
  // TROUPE_RANK_LINK, the path of its credential file (cluster/security/rank_link.hpp).
  bool rank_link = false;
  std::string tenant;  // the job's: the artifacts its rank link may fetch and publish
  bool operator==(const task_launch& o) const {
    return attempt_id == o.attempt_id && argv == o.argv && env == o.env && workdir == o.workdir &&
           cpus == o.cpus && memory_limit_mb == o.memory_limit_mb && timeout_ms == o.timeout_ms &&
           gpus == o.gpus && pick_master_port == o.pick_master_port && rank_link == o.rank_link &&
           tenant == o.tenant;
  }
};

// How an attempt ended, as the node saw it.
struct task_exit {
  std::optional<int32_t> exit_code;  // exited normally
  std::optional<int32_t> signal;     // killed by this signal
  // Empty when the process ended by itself; else "cancelled", "timeout",
  // "memory limit exceeded", or "could not start: <why>".
  std::string reason;
  bool operator==(const task_exit& o) const {
    return exit_code == o.exit_code && signal == o.signal && reason == o.reason;
  }
  bool succeeded() const { return reason.empty() && exit_code == 0; }
};

}  // namespace troupe::jobs
