// Plain C++ mirrors of messages/training.capnp. Only the codec converts these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "messages/artifacts.hpp"

namespace troupe::msg {

struct rendezvous_set_request {
  std::string attempt_id;
  std::string key;
  std::string value;
  bool operator==(const rendezvous_set_request& o) const {
    return attempt_id == o.attempt_id && key == o.key && value == o.value;
  }
};

struct rendezvous_set_reply {
  bool operator==(const rendezvous_set_reply&) const { return true; }
};

struct rendezvous_get_request {
  std::string attempt_id;
  std::string key;
  uint32_t timeout_ms = 0;
  bool operator==(const rendezvous_get_request& o) const {
    return attempt_id == o.attempt_id && key == o.key && timeout_ms == o.timeout_ms;
  }
};

struct rendezvous_get_reply {
  std::string value;
  bool operator==(const rendezvous_get_reply& o) const { return value == o.value; }
};

struct step_metric {
  uint32_t epoch = 0;
  uint64_t step = 0;
  double loss = 0;
  double learning_rate = 0;
  double samples_per_second = 0;
  int64_t at_ms = 0;
  bool operator==(const step_metric& o) const {
    return epoch == o.epoch && step == o.step && loss == o.loss &&
           learning_rate == o.learning_rate && samples_per_second == o.samples_per_second &&
           at_ms == o.at_ms;
  }
};

struct epoch_metric {
  uint32_t epoch = 0;
  double train_loss = 0;
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;
  std::optional<double> val_mae;
  int64_t at_ms = 0;
  bool operator==(const epoch_metric& o) const {
    return epoch == o.epoch && train_loss == o.train_loss && val_loss == o.val_loss &&
           val_accuracy == o.val_accuracy && val_mae == o.val_mae && at_ms == o.at_ms;
  }
};

struct metrics_report {
  std::string attempt_id;
  std::vector<step_metric> steps;
  std::vector<epoch_metric> epochs;
  bool operator==(const metrics_report& o) const {
    return attempt_id == o.attempt_id && steps == o.steps && epochs == o.epochs;
  }
};

struct job_metrics_request {
  std::string job_id;
  uint64_t after = 0;
  uint32_t max_entries = 0;
  bool operator==(const job_metrics_request& o) const {
    return job_id == o.job_id && after == o.after && max_entries == o.max_entries;
  }
};

struct metric_entry {
  uint64_t seq = 0;
  std::string attempt_id;
  std::variant<step_metric, epoch_metric> metric;
  bool operator==(const metric_entry& o) const {
    return seq == o.seq && attempt_id == o.attempt_id && metric == o.metric;
  }
};

struct job_metrics_reply {
  std::vector<metric_entry> entries;
  uint64_t next = 0;
  std::string job_state;
  bool operator==(const job_metrics_reply& o) const {
    return entries == o.entries && next == o.next && job_state == o.job_state;
  }
};

struct fetch_artifact_request {
  std::string attempt_id;
  std::string name;
  std::string digest;
  uint32_t timeout_ms = 0;
  uint64_t offset = 0;
  uint64_t length = 0;  // 0: the whole artifact
  bool operator==(const fetch_artifact_request& o) const {
    return attempt_id == o.attempt_id && name == o.name && digest == o.digest &&
           timeout_ms == o.timeout_ms && offset == o.offset && length == o.length;
  }
};

struct fetch_artifact_reply {
  artifact_info artifact;
  std::string path;
  bool operator==(const fetch_artifact_reply& o) const {
    return artifact == o.artifact && path == o.path;
  }
};

struct publish_artifact_request {
  std::string attempt_id;
  std::string path;
  std::string name;
  artifact_kind kind = artifact_kind::checkpoint;
  uint32_t timeout_ms = 0;
  bool operator==(const publish_artifact_request& o) const {
    return attempt_id == o.attempt_id && path == o.path && name == o.name && kind == o.kind &&
           timeout_ms == o.timeout_ms;
  }
};

struct publish_artifact_reply {
  artifact_info artifact;
  bool operator==(const publish_artifact_reply& o) const { return artifact == o.artifact; }
};

struct register_model_request {
  std::string attempt_id;
  std::string artifact_digest;
  std::string final_metrics_json;
  std::string best_metrics_json;
  std::string dataset_fingerprint;
  uint32_t input_features = 0;
  std::vector<std::string> classes;
  bool operator==(const register_model_request& o) const {
    return attempt_id == o.attempt_id && artifact_digest == o.artifact_digest &&
           final_metrics_json == o.final_metrics_json && best_metrics_json == o.best_metrics_json &&
           dataset_fingerprint == o.dataset_fingerprint && input_features == o.input_features &&
           classes == o.classes;
  }
};

struct register_model_reply {
  std::string name;
  uint32_t version = 0;
  bool operator==(const register_model_reply& o) const {
    return name == o.name && version == o.version;
  }
};

struct dataset_part {
  std::string name;
  std::string digest;  // empty: the newest version of name
  bool operator==(const dataset_part& o) const { return name == o.name && digest == o.digest; }
};

struct assemble_dataset_request {
  std::string attempt_id;
  std::string name;
  std::vector<dataset_part> parts;
  uint32_t timeout_ms = 0;
  bool operator==(const assemble_dataset_request& o) const {
    return attempt_id == o.attempt_id && name == o.name && parts == o.parts &&
           timeout_ms == o.timeout_ms;
  }
};

struct assemble_dataset_reply {
  artifact_info artifact;
  bool operator==(const assemble_dataset_reply& o) const { return artifact == o.artifact; }
};

// The envelope's `training` member: one of the kinds above.
struct training_message {
  std::variant<rendezvous_set_request, rendezvous_set_reply, rendezvous_get_request,
               rendezvous_get_reply, metrics_report, job_metrics_request, job_metrics_reply,
               fetch_artifact_request, fetch_artifact_reply, publish_artifact_request,
               publish_artifact_reply, register_model_request, register_model_reply,
               assemble_dataset_request, assemble_dataset_reply>
      body;
  bool operator==(const training_message& o) const { return body == o.body; }
};

}  // namespace troupe::msg
