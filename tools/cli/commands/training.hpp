// Commands about training jobs: metrics.
#pragma once

#include <ostream>
#include <string>

#include "tools/cli/commands/cluster.hpp"

namespace troupe::cli {

// Prints the metrics the job's ranks reported, oldest first: a line per step and per epoch, or
// with --json one JSON object per line. With `follow`, keeps printing until the job has ended.
// Returns 0.
result<int> show_metrics(const session& s, const std::string& job_id, bool follow,
                         std::ostream& out);

}  // namespace troupe::cli
