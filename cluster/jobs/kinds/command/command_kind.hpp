// `command`: runs a user's program, from `argv` (a list) or `shell` (one string for /bin/sh -c),
// with the spec's `env` and an optional absolute `workdir`. Each task gets Troupe's variables
// and the torchrun environment (common_launch.hpp), which win over the spec's env of the same
// name.
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
