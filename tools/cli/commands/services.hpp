// Commands about serve jobs' services (docs/jobs.md, "Fields of serve"): services, predict.
#pragma once

#include <string>

#include "tools/cli/commands/cluster.hpp"

namespace troupe::cli {

// Every running service the key may see: its replicas and the versions it serves.
command_output list_services(const session& s);
// One prediction over the protocol. `input` is JSON: {"features": [f1, ...]} for one row or
// {"features": [[...], ...]} for several; `version` 0 follows the service's traffic split.
command_output predict(const session& s, const std::string& service, const std::string& input,
                       uint32_t version, const std::string& routing_key);

}  // namespace troupe::cli
