// Commands about jobs: submit, jobs, job, logs, cancel. The ones that follow a job as it runs
// (submit --wait, logs -f) write as they go and return the job's exit code.
#pragma once

#include <ostream>
#include <string>

#include "tools/cli/commands/cluster.hpp"

namespace troupe::cli {

// Submits the spec in `file` (a path, or - for stdin) and returns the job's id. A submit whose
// reply is lost is retried with the same client request id, so it never makes two jobs.
result<std::string> submit_job(const session& s, const std::string& file);
// What `troupe submit` prints: the id, or {"id": ...} as JSON.
std::string submitted_text(const session& s, const std::string& job_id);

// Follows the job until it ends: on a terminal one status line rewritten in place, else a line
// per change. Returns the exit code to leave with: the job's own when it has one, 128 + signal
// when a task was killed, 1 when it failed otherwise or was cancelled, 0 when it succeeded.
result<int> wait_for_job(const session& s, const std::string& job_id, std::ostream& out,
                         bool terminal);

command_output list_jobs(const session& s, const std::string& state, const std::string& tenant);
command_output show_job(const session& s, const std::string& job_id);
command_output cancel_job(const session& s, const std::string& job_id);

// Prints task `task`'s output; with `follow`, keeps printing until the job has ended and every
// byte arrived. Returns 0.
result<int> show_logs(const session& s, const std::string& job_id, uint32_t task, bool follow,
                      std::ostream& out);

}  // namespace troupe::cli
