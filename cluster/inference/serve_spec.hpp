// What a `serve` job asks for, as plain values: the job spec's kind fields once validated
// (cluster/jobs/kinds/serve), and what each replica process and the head's service router read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/inference/service_policy.hpp"

namespace troupe::inference {

enum class serve_device { cpu, cuda };

// A replica joins concurrent requests into one forward pass of at most `max_batch` rows; a request
// is held for others at most `max_delay_ms` (the replica's batcher holds none: a pass starts as
// soon as the model is free).
struct batching_policy {
  uint32_t max_batch = 64;
  uint32_t max_delay_ms = 2;
  bool operator==(const batching_policy& o) const {
    return max_batch == o.max_batch && max_delay_ms == o.max_delay_ms;
  }
};

// One version's share of an A/B split.
struct traffic_share {
  uint32_t version = 0;
  uint32_t weight = 0;
  bool operator==(const traffic_share& o) const {
    return version == o.version && weight == o.weight;
  }
};

struct serve_spec {
  std::string model;  // NAME, NAME@VERSION or NAME@STAGE (cluster/models/model_ref.hpp)
  uint32_t replicas = 1;
  serve_device device = serve_device::cpu;
  batching_policy batching;
  std::vector<traffic_share> traffic;  // empty: the version the model reference names
  auth_policy auth;
  cache_policy cache;
  bool operator==(const serve_spec& o) const {
    return model == o.model && replicas == o.replicas && device == o.device &&
           batching == o.batching && traffic == o.traffic && auth == o.auth && cache == o.cache;
  }
};

const char* to_string(serve_device device);

// The spec as the head stores it and a replica receives it, in the form of the spec's fields
// (parse_job_spec reads it back unchanged). from_json throws nlohmann::json::exception on a
// document that to_json did not write.
nlohmann::json to_json(const serve_spec& spec);
serve_spec serve_spec_from_json(const nlohmann::json& json);

// A service's `auth` and `cache` as the spec writes them: {"tokens": "required" or "optional",
// and when it has a limit "rate_limit_per_s" and "burst"}; {"entries" (0: none), "ttl_s"}.
// What `troupe services --json` and the head's GET /v1/models show.
nlohmann::json to_json(const auth_policy& auth);
nlohmann::json to_json(const cache_policy& cache);

}  // namespace troupe::inference
