// Plain C++ mirrors of messages/inference.capnp. Only the codec converts these. A model's
// signature and a service's status are the router's own values (cluster/inference/predictor.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cluster/inference/predictor.hpp"

namespace troupe::msg {

struct predict_request {
  std::string service;
  uint32_t version = 0;
  uint32_t feature_count = 0;
  std::vector<float> features;
  std::string routing_key;
  std::string replica;
  bool operator==(const predict_request& o) const {
    return service == o.service && version == o.version && feature_count == o.feature_count &&
           features == o.features && routing_key == o.routing_key && replica == o.replica;
  }
};

struct predict_reply {
  std::string model_name;
  uint32_t model_version = 0;
  uint32_t rows = 0;
  uint32_t output_count = 0;
  std::vector<float> outputs;
  bool operator==(const predict_reply& o) const {
    return model_name == o.model_name && model_version == o.model_version && rows == o.rows &&
           output_count == o.output_count && outputs == o.outputs;
  }
};

struct list_services_request {
  std::string tenant;
  bool operator==(const list_services_request& o) const { return tenant == o.tenant; }
};

struct list_services_reply {
  std::vector<inference::service_status> services;
  bool operator==(const list_services_reply& o) const { return services == o.services; }
};

struct resolve_service_request {
  std::string attempt_id;
  bool operator==(const resolve_service_request& o) const { return attempt_id == o.attempt_id; }
};

struct version_to_load {
  uint32_t version = 0;
  std::string artifact_digest;
  inference::model_signature signature;
  uint32_t weight = 0;
  bool operator==(const version_to_load& o) const {
    return version == o.version && artifact_digest == o.artifact_digest &&
           signature == o.signature && weight == o.weight;
  }
};

struct resolve_service_reply {
  std::string model_name;
  std::vector<version_to_load> versions;
  std::string service;
  bool operator==(const resolve_service_reply& o) const {
    return model_name == o.model_name && versions == o.versions && service == o.service;
  }
};

// LoadedVersion.passesByRows: entry i counts the forward passes of more than 2^(i-1) and at most
// 2^i rows (entry 0: of one row), up to 4096 rows (the most one pass takes).
inline constexpr size_t pass_row_buckets = 13;
inline size_t pass_row_bucket(uint32_t rows) {
  size_t i = 0;
  while (i + 1 < pass_row_buckets && (uint32_t{1} << i) < rows) ++i;
  return i;
}

struct loaded_version {
  uint32_t version = 0;
  std::string problem;  // empty: loaded and serving
  uint32_t queue_depth = 0;
  std::vector<uint64_t> passes_by_rows;  // at most pass_row_buckets
  uint64_t rows_forwarded = 0;
  bool operator==(const loaded_version& o) const {
    return version == o.version && problem == o.problem && queue_depth == o.queue_depth &&
           passes_by_rows == o.passes_by_rows && rows_forwarded == o.rows_forwarded;
  }
};

struct replica_report {
  std::string attempt_id;
  std::vector<loaded_version> versions;
  std::string predict_endpoint;    // where the head sends the replica its predictions
  std::string predict_public_key;  // that socket's CURVE key (Z85)
  bool operator==(const replica_report& o) const {
    return attempt_id == o.attempt_id && versions == o.versions &&
           predict_endpoint == o.predict_endpoint && predict_public_key == o.predict_public_key;
  }
};

struct replica_report_reply {
  bool operator==(const replica_report_reply&) const { return true; }
};

// The envelope's `inference` member: one of the kinds above.
struct inference_message {
  std::variant<predict_request, predict_reply, list_services_request, list_services_reply,
               resolve_service_request, resolve_service_reply, replica_report, replica_report_reply>
      body;
  bool operator==(const inference_message& o) const { return body == o.body; }
};

}  // namespace troupe::msg
