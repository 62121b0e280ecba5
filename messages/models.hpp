// Plain C++ mirrors of messages/models.capnp. Only the codec converts these. Stages are the
// registry's own values (cluster/models/model_ref.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cluster/models/model_ref.hpp"

namespace troupe::msg {

struct list_models_request {
  std::string tenant;
  uint32_t limit = 0;
  bool operator==(const list_models_request& o) const {
    return tenant == o.tenant && limit == o.limit;
  }
};

struct model_summary {
  std::string name;
  std::string tenant;
  uint32_t latest_version = 0;
  uint32_t versions = 0;
  uint32_t staging_version = 0;
  uint32_t production_version = 0;
  int64_t updated_at_ms = 0;
  bool operator==(const model_summary& o) const {
    return name == o.name && tenant == o.tenant && latest_version == o.latest_version &&
           versions == o.versions && staging_version == o.staging_version &&
           production_version == o.production_version && updated_at_ms == o.updated_at_ms;
  }
};

struct list_models_reply {
  std::vector<model_summary> models;
  bool operator==(const list_models_reply& o) const { return models == o.models; }
};

struct get_model_request {
  std::string name;
  uint32_t version = 0;
  models::stage stage = models::stage::none;
  bool operator==(const get_model_request& o) const {
    return name == o.name && version == o.version && stage == o.stage;
  }
};

struct model_version {
  std::string name;
  uint32_t version = 0;
  std::string tenant;
  std::string job_id;
  std::string artifact_digest;
  std::string final_metrics_json;
  std::string best_metrics_json;
  std::string params_json;
  std::string dataset_fingerprint;
  models::stage stage = models::stage::none;
  int64_t created_at_ms = 0;
  uint32_t input_features = 0;  // 0: not declared
  models::output_kind output_kind = models::output_kind::logits;
  std::vector<std::string> classes;
  models::model_source source = models::model_source::trained;
  bool operator==(const model_version& o) const {
    return name == o.name && version == o.version && tenant == o.tenant && job_id == o.job_id &&
           artifact_digest == o.artifact_digest && final_metrics_json == o.final_metrics_json &&
           best_metrics_json == o.best_metrics_json && params_json == o.params_json &&
           dataset_fingerprint == o.dataset_fingerprint && stage == o.stage &&
           created_at_ms == o.created_at_ms && input_features == o.input_features &&
           output_kind == o.output_kind && classes == o.classes && source == o.source;
  }
};

struct stage_change {
  uint32_t version = 0;
  models::stage from_stage = models::stage::none;
  models::stage to_stage = models::stage::none;
  std::string changed_by;
  int64_t at_ms = 0;
  bool operator==(const stage_change& o) const {
    return version == o.version && from_stage == o.from_stage && to_stage == o.to_stage &&
           changed_by == o.changed_by && at_ms == o.at_ms;
  }
};

struct get_model_reply {
  model_summary model;
  std::vector<model_version> versions;
  std::vector<stage_change> stage_changes;
  bool operator==(const get_model_reply& o) const {
    return model == o.model && versions == o.versions && stage_changes == o.stage_changes;
  }
};

struct promote_model_request {
  std::string name;
  uint32_t version = 0;
  models::stage stage = models::stage::none;
  bool operator==(const promote_model_request& o) const {
    return name == o.name && version == o.version && stage == o.stage;
  }
};

struct promote_model_reply {
  model_version version;
  std::vector<stage_change> changes;
  bool operator==(const promote_model_reply& o) const {
    return version == o.version && changes == o.changes;
  }
};

struct import_model_request {
  std::string name;
  std::string tenant;
  std::string artifact_digest;
  uint32_t input_features = 0;
  models::output_kind output_kind = models::output_kind::probabilities;
  std::vector<std::string> classes;
  bool operator==(const import_model_request& o) const {
    return name == o.name && tenant == o.tenant && artifact_digest == o.artifact_digest &&
           input_features == o.input_features && output_kind == o.output_kind &&
           classes == o.classes;
  }
};

struct import_model_reply {
  model_version version;
  bool operator==(const import_model_reply& o) const { return version == o.version; }
};

// The envelope's `models` member: one of the kinds above.
struct models_message {
  std::variant<list_models_request, list_models_reply, get_model_request, get_model_reply,
               promote_model_request, promote_model_reply, import_model_request, import_model_reply>
      body;
  bool operator==(const models_message& o) const { return body == o.body; }
};

}  // namespace troupe::msg
