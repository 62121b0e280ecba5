// The model registry's rules over the stored versions (docs/models.md), as plain functions: what
// a train job may register, which version a reference names, what a promotion changes, and a
// model's summary. The registry service (registry.hpp) applies them through the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/models/model_ref.hpp"
#include "cluster/store/store.hpp"
#include "messages/models.hpp"

namespace troupe::models {

// What the head registers: a succeeded train job's model, from what its rank 0 reported, or an
// imported file.
struct registration {
  std::string name;                // the spec's output.model_name
  std::string tenant;              // the job's
  std::string job_id;              // empty for an import
  std::string artifact_digest;     // sha256 of the TorchScript artifact, 64 lowercase hex digits
  std::string final_metrics_json;  // JSON objects
  std::string best_metrics_json;
  std::string params_json;  // the train spec
  std::string dataset_fingerprint;
  uint32_t input_features = 0;  // 0: not declared
  output_kind outputs = output_kind::logits;
  std::vector<std::string> classes;
  model_source source = model_source::trained;
};

// Limits that keep a model's replies within one frame (messages/codec.hpp).
inline constexpr size_t max_metrics_json_bytes = 4096;
inline constexpr size_t max_params_json_bytes = 64 * 1024;
inline constexpr size_t max_short_text_bytes = 256;  // tenant, job id, fingerprint
inline constexpr uint32_t max_input_features = 65536;
inline constexpr size_t max_classes = 10000;
inline constexpr size_t max_class_label_bytes = 200;

// Why `r` cannot be registered, starting with the field's name; nullopt when it can.
std::optional<std::string> registration_problem(const registration& r);
// The record to store for `r`, made at `now_ms`.
store::model_version_record record_of(const registration& r, int64_t now_ms);
// A stored version as the protocol carries it.
msg::model_version to_msg(const store::model_version_record& v);

// The version `ref` names among one model's versions (ordered by version), or nullptr. A ref
// naming no version or stage names none.
const store::model_version_record* resolve(
    const model_ref& ref, const std::vector<store::model_version_record>& versions);

// The stage changes that move `version` to `to`: first whichever other version is in `to`
// (staging or production) to archived, then `version` itself; none when it is in `to` already.
std::vector<store::model_stage_change> promotion(
    const std::vector<store::model_version_record>& versions, uint32_t version, stage to,
    const std::string& changed_by, int64_t at_ms);

// One summary per model of `versions` (ordered by name, then version), in that order; a model's
// stage changes (any order) count for its updated_at_ms.
std::vector<msg::model_summary> summaries(const std::vector<store::model_version_record>& versions,
                                          const std::vector<store::model_stage_change>& changes);

}  // namespace troupe::models
