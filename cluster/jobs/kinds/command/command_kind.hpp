// `command`: runs a user's program, from `argv` (a list) or `shell` (one string for /bin/sh -c),
// with the spec's `env` and an optional absolute `workdir`. Each task gets Troupe's variables
// and the torchrun environment, which win over the spec's env of the same name:
//   TROUPE_JOB_ID TROUPE_TASK_INDEX TROUPE_TASK_COUNT TROUPE_ATTEMPT_ID
//   RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE MASTER_ADDR MASTER_PORT
// MASTER_PORT comes from the task context when known; otherwise task 0's node picks a free port
// (pick_master_port) and the head passes it to the other tasks.
#pragma once

#include "cluster/jobs/job_kind.hpp"

namespace troupe::jobs {

inline constexpr size_t max_command_arguments = 4096;

class command_kind : public job_kind {
 public:
  std::string_view name() const override { return "command"; }
  std::vector<std::string_view> field_names() const override;
  nlohmann::json parse_fields(const spec_map& spec) const override;
  task_launch launch(const job_spec& spec, const task_context& task) const override;
};

}  // namespace troupe::jobs
