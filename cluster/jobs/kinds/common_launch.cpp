#include "cluster/jobs/kinds/common_launch.hpp"

#include <algorithm>
#include <array>

namespace troupe::jobs {
namespace {

constexpr std::array<std::string_view, 13> task_variables{"TROUPE_JOB_ID",
                                                          "TROUPE_TASK_INDEX",
                                                          "TROUPE_TASK_COUNT",
                                                          "TROUPE_ATTEMPT_ID",
                                                          "RANK",
                                                          "WORLD_SIZE",
                                                          "LOCAL_RANK",
                                                          "LOCAL_WORLD_SIZE",
                                                          "MASTER_ADDR",
                                                          "MASTER_PORT",
                                                          "TROUPE_RANK_LINK",
                                                          "TROUPE_HEAD_PUBLIC_KEY",
                                                          "TROUPE_SERVE_PORTS"};

}  // namespace

bool is_task_variable(std::string_view name) {
  return std::find(task_variables.begin(), task_variables.end(), name) != task_variables.end();
}

task_launch common_launch(const job_spec& spec, const task_context& task) {
  task_launch out;
  out.attempt_id = task.attempt_id;
  out.tenant = spec.tenant;
  auto set = [&](std::string_view name, std::string value) {
    out.env.emplace_back(std::string(name), std::move(value));
  };
  set("TROUPE_JOB_ID", task.job_id);
  set("TROUPE_TASK_INDEX", std::to_string(task.task_index));
  set("TROUPE_TASK_COUNT", std::to_string(task.task_count));
  set("TROUPE_ATTEMPT_ID", task.attempt_id);
  set("RANK", std::to_string(task.task_index));
  set("WORLD_SIZE", std::to_string(task.task_count));
  set("LOCAL_RANK", std::to_string(task.local_rank));
  set("LOCAL_WORLD_SIZE", std::to_string(task.local_world_size));
  set("MASTER_ADDR", task.master_addr);
  if (task.master_port != 0) set("MASTER_PORT", std::to_string(task.master_port));
  out.pick_master_port = task.master_port == 0 && task.task_index == 0;
  // A gang's tasks are ranks: they may meet through the head's rendezvous and report metrics.
  out.rank_link = task.task_count > 1;
  out.cpus = spec.resources.cpus;
  out.memory_limit_mb = spec.resources.memory_mb;
  out.timeout_ms = spec.timeout_s * 1000;
  out.gpus = task.gpus;
  return out;
}

}  // namespace troupe::jobs
