// A running service's status (predictor.hpp) as JSON, the one form `troupe services --json` and
// the head's GET /v1/models show: its replicas, each version's weight, readiness, signature,
// problem and requests answered, and its `auth` and `cache` as the spec says them.
#pragma once

#include <nlohmann/json.hpp>

#include "cluster/inference/predictor.hpp"

namespace troupe::inference {

nlohmann::json to_json(const service_status& status);

}  // namespace troupe::inference
