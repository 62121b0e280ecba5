// The contract between the ways a prediction is asked for (the head's HTTP endpoints, the
// protocol's PredictRequest) and the head's service router, which picks a replica of a serve job
// and asks it. Plain C++: no CAF, no torch, so the HTTP server and the router's actor both
// include it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cluster/inference/service_policy.hpp"
#include "cluster/models/model_ref.hpp"
#include "messages/error.hpp"

namespace troupe::inference {

// What a model's outputs are (the registry's).
using output_kind = models::output_kind;

// What a served model version takes and gives.
struct model_signature {
  uint32_t input_features = 0;
  output_kind outputs = output_kind::logits;
  std::vector<std::string> classes;  // the label of each output of a classifier; else empty
  bool operator==(const model_signature& o) const {
    return input_features == o.input_features && outputs == o.outputs && classes == o.classes;
  }
};

struct prediction_request {
  std::string service;          // the serve job's name
  uint32_t version = 0;         // 0: by the service's traffic split
  std::string tenant;           // the caller's; empty: any (an admin)
  uint32_t feature_count = 0;   // values per row
  std::vector<float> features;  // rows × feature_count, row-major
  std::string routing_key;      // same key, same version (a sticky A/B split); empty: none
};

struct prediction_result {
  std::optional<msg::error> error;  // set: nothing below is
  std::string model_name;
  uint32_t model_version = 0;
  uint32_t rows = 0;
  uint32_t output_count = 0;   // values per row in `outputs`
  std::vector<float> outputs;  // rows × output_count: probabilities (a classifier) or values
  model_signature signature;   // of model_version
};

// One version a service serves, as the router sees it now.
struct served_version {
  uint32_t version = 0;
  uint32_t weight = 0;          // its share of the traffic split (of the weights' sum)
  uint32_t ready_replicas = 0;  // replicas that loaded it and answer
  model_signature signature;
  std::string problem;    // why a replica could not load it; empty when none
  uint64_t requests = 0;  // predictions it answered since the head started
  bool operator==(const served_version& o) const {
    return version == o.version && weight == o.weight && ready_replicas == o.ready_replicas &&
           signature == o.signature && problem == o.problem && requests == o.requests;
  }
};

struct service_status {
  std::string name;
  std::string tenant;
  std::string job_id;
  std::string model;  // as the spec names it: NAME, NAME@VERSION or NAME@STAGE
  uint32_t replicas = 0;
  uint32_t ready_replicas = 0;
  std::vector<served_version> versions;
  auth_policy auth;    // what its HTTP callers must show
  cache_policy cache;  // what the head keeps of its answers
  bool operator==(const service_status& o) const {
    return name == o.name && tenant == o.tenant && job_id == o.job_id && model == o.model &&
           replicas == o.replicas && ready_replicas == o.ready_replicas && versions == o.versions &&
           auth == o.auth && cache == o.cache;
  }
};

// What a caller must show to call a service, as the router knows it now.
struct service_access {
  std::string tenant;  // the service's
  auth_policy auth;
  bool operator==(const service_access& o) const { return tenant == o.tenant && auth == o.auth; }
};

// Implemented by the head's service router. Every call answers through its callback exactly
// once, on any thread, and never blocks the caller.
class predictor {
 public:
  virtual ~predictor() = default;
  virtual void predict(prediction_request request, std::function<void(prediction_result)> done) = 0;
  // The services `tenant` may see (empty: all).
  virtual void services(std::string tenant,
                        std::function<void(std::vector<service_status>)> done) = 0;
  // Makes the service's replicas load what its model reference names now.
  virtual void reload(std::string service, std::string tenant,
                      std::function<void(std::optional<msg::error>)> done) = 0;
  // The access policy of the running service `service` that `tenant` may see (empty: any), or
  // nullopt when none runs. Unlike the calls above it answers at once, from the router's latest
  // view, so that the HTTP layer checks a caller before it parses the request's body.
  virtual std::optional<service_access> access(const std::string& service,
                                               const std::string& tenant) const = 0;
};

}  // namespace troupe::inference
