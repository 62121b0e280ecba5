// What every kind's task launch holds: the attempt, the spec's per-task limits, the task's GPUs
// and the variables every task gets, Troupe's own and the torchrun environment:
//   TROUPE_JOB_ID TROUPE_TASK_INDEX TROUPE_TASK_COUNT TROUPE_ATTEMPT_ID
//   RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE MASTER_ADDR MASTER_PORT
// and TROUPE_RANK_LINK (set by the node for a launch with rank_link; gang tasks have one).
// MASTER_PORT comes from the task context when known; otherwise task 0's node picks a free port
// (pick_master_port) and the head passes it to the other tasks. A kind adds argv, workdir and
// its own variables, none of them named like these (is_task_variable).
#pragma once

#include <string_view>

#include "cluster/jobs/job_kind.hpp"

namespace troupe::jobs {

task_launch common_launch(const job_spec& spec, const task_context& task);

bool is_task_variable(std::string_view name);

}  // namespace troupe::jobs
