// Plain C++ mirrors of messages/jobs.capnp. Only the codec converts these. What a node runs
// and how it ended are the job model's own values (cluster/jobs/job_model.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cluster/jobs/job_model.hpp"

namespace troupe::msg {

struct submit_job_request {
  std::string spec;
  std::string client_request_id;
  bool operator==(const submit_job_request& o) const {
    return spec == o.spec && client_request_id == o.client_request_id;
  }
};

struct submit_job_reply {
  std::string job_id;
  bool existing = false;
  bool operator==(const submit_job_reply& o) const {
    return job_id == o.job_id && existing == o.existing;
  }
};

struct list_jobs_request {
  std::string state;
  std::string tenant;
  uint32_t limit = 0;
  bool operator==(const list_jobs_request& o) const {
    return state == o.state && tenant == o.tenant && limit == o.limit;
  }
};

struct job_summary {
  std::string job_id;
  std::string name;
  std::string tenant;
  std::string kind;
  std::string state;
  std::string reason;
  int32_t priority = 0;
  uint32_t tasks = 1;
  uint32_t attempts = 0;
  int64_t submitted_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  std::optional<int32_t> exit_code;
  std::vector<std::string> nodes;
  bool operator==(const job_summary& o) const {
    return job_id == o.job_id && name == o.name && tenant == o.tenant && kind == o.kind &&
           state == o.state && reason == o.reason && priority == o.priority && tasks == o.tasks &&
           attempts == o.attempts && submitted_at_ms == o.submitted_at_ms &&
           started_at_ms == o.started_at_ms && finished_at_ms == o.finished_at_ms &&
           exit_code == o.exit_code && nodes == o.nodes;
  }
};

struct list_jobs_reply {
  std::vector<job_summary> jobs;
  bool operator==(const list_jobs_reply& o) const { return jobs == o.jobs; }
};

struct get_job_request {
  std::string job_id;
  bool operator==(const get_job_request& o) const { return job_id == o.job_id; }
};

struct attempt_info {
  std::string attempt_id;
  uint32_t task_index = 0;
  uint32_t attempt = 0;
  std::string node_id;
  std::string node_name;
  std::string state;
  std::string reason;
  std::optional<int32_t> exit_code;
  std::optional<int32_t> signal;
  int64_t scheduled_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  bool operator==(const attempt_info& o) const {
    return attempt_id == o.attempt_id && task_index == o.task_index && attempt == o.attempt &&
           node_id == o.node_id && node_name == o.node_name && state == o.state &&
           reason == o.reason && exit_code == o.exit_code && signal == o.signal &&
           scheduled_at_ms == o.scheduled_at_ms && started_at_ms == o.started_at_ms &&
           finished_at_ms == o.finished_at_ms;
  }
};

struct job_transition_info {
  std::string from_state;
  std::string to_state;
  std::string reason;
  int64_t at_ms = 0;
  bool operator==(const job_transition_info& o) const {
    return from_state == o.from_state && to_state == o.to_state && reason == o.reason &&
           at_ms == o.at_ms;
  }
};

struct get_job_reply {
  job_summary job;
  std::string spec;
  std::vector<attempt_info> attempts;
  std::vector<job_transition_info> transitions;
  bool operator==(const get_job_reply& o) const {
    return job == o.job && spec == o.spec && attempts == o.attempts && transitions == o.transitions;
  }
};

struct cancel_job_request {
  std::string job_id;
  bool operator==(const cancel_job_request& o) const { return job_id == o.job_id; }
};

struct cancel_job_reply {
  std::string state;
  bool operator==(const cancel_job_reply& o) const { return state == o.state; }
};

struct job_logs_request {
  std::string job_id;
  uint32_t task_index = 0;
  uint32_t attempt = 0;
  uint64_t offset = 0;
  uint32_t max_bytes = 0;
  bool operator==(const job_logs_request& o) const {
    return job_id == o.job_id && task_index == o.task_index && attempt == o.attempt &&
           offset == o.offset && max_bytes == o.max_bytes;
  }
};

struct job_logs_reply {
  std::string attempt_id;
  std::string data;
  uint64_t next_offset = 0;
  bool complete = false;
  bool operator==(const job_logs_reply& o) const {
    return attempt_id == o.attempt_id && data == o.data && next_offset == o.next_offset &&
           complete == o.complete;
  }
};

struct start_task_request {
  std::string job_id;
  uint32_t task_index = 0;
  jobs::task_launch launch;
  std::string after_attempt_id;  // a standby: start once this attempt ended on the node
  bool operator==(const start_task_request& o) const {
    return job_id == o.job_id && task_index == o.task_index && launch == o.launch &&
           after_attempt_id == o.after_attempt_id;
  }
};

struct kill_task_request {
  std::string attempt_id;
  std::string reason;
  bool operator==(const kill_task_request& o) const {
    return attempt_id == o.attempt_id && reason == o.reason;
  }
};

struct task_started {
  std::string attempt_id;
  int32_t pid = 0;
  uint16_t master_port = 0;
  int64_t started_at_ms = 0;
  bool operator==(const task_started& o) const {
    return attempt_id == o.attempt_id && pid == o.pid && master_port == o.master_port &&
           started_at_ms == o.started_at_ms;
  }
};

enum class log_stream { stdout_stream, stderr_stream };

struct task_output {
  std::string attempt_id;
  log_stream stream = log_stream::stdout_stream;
  uint64_t offset = 0;
  std::string data;
  bool operator==(const task_output& o) const {
    return attempt_id == o.attempt_id && stream == o.stream && offset == o.offset && data == o.data;
  }
};

struct task_finished {
  std::string attempt_id;
  jobs::task_exit exit;
  int64_t finished_at_ms = 0;
  uint64_t stdout_bytes = 0;
  uint64_t stderr_bytes = 0;
  bool operator==(const task_finished& o) const {
    return attempt_id == o.attempt_id && exit == o.exit && finished_at_ms == o.finished_at_ms &&
           stdout_bytes == o.stdout_bytes && stderr_bytes == o.stderr_bytes;
  }
};

struct task_finished_ack {
  std::string attempt_id;
  bool operator==(const task_finished_ack& o) const { return attempt_id == o.attempt_id; }
};

struct node_tasks {
  std::vector<std::string> running;
  std::vector<task_finished> finished;
  std::vector<std::string> waiting;  // standbys not started yet
  bool operator==(const node_tasks& o) const {
    return running == o.running && finished == o.finished && waiting == o.waiting;
  }
};

// The envelope's `jobs` member: one of the kinds above.
struct jobs_message {
  std::variant<submit_job_request, submit_job_reply, list_jobs_request, list_jobs_reply,
               get_job_request, get_job_reply, cancel_job_request, cancel_job_reply,
               job_logs_request, job_logs_reply, start_task_request, kill_task_request,
               task_started, task_output, task_finished, task_finished_ack, node_tasks>
      body;
  bool operator==(const jobs_message& o) const { return body == o.body; }
};

}  // namespace troupe::msg
