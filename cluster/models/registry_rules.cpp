#include "cluster/models/registry_rules.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cluster/artifacts/digest.hpp"

namespace troupe::models {
namespace {

std::optional<std::string> json_object_problem(const char* field, const std::string& text,
                                               size_t max_bytes) {
  if (text.size() > max_bytes)
    return std::string(field) + ": at most " + std::to_string(max_bytes) + " bytes";
  if (!nlohmann::json::parse(text, nullptr, false).is_object())
    return std::string(field) + ": must be a JSON object";
  return std::nullopt;
}

std::optional<std::string> signature_problem(const registration& r) {
  if (r.input_features > max_input_features)
    return "input_features: at most " + std::to_string(max_input_features);
  if (r.classes.size() > max_classes)
    return "classes: at most " + std::to_string(max_classes) + " labels";
  if (r.outputs == output_kind::values && !r.classes.empty())
    return std::string("classes: a model of output kind values has no classes");
  std::set<std::string> seen;
  for (const auto& c : r.classes) {
    if (c.empty() || c.size() > max_class_label_bytes)
      return "classes: each label is 1 to " + std::to_string(max_class_label_bytes) + " bytes";
    if (!seen.insert(c).second) return "classes: the label `" + c + "` is given twice";
  }
  return std::nullopt;
}

stage stage_of(const std::string& stored) { return parse_stage(stored).value_or(stage::none); }

}  // namespace

std::optional<std::string> registration_problem(const registration& r) {
  if (!is_model_name(r.name)) return std::string("name: ") + name_rule;
  if (r.tenant.empty() || r.tenant.size() > max_short_text_bytes)
    return "tenant: 1 to " + std::to_string(max_short_text_bytes) + " bytes";
  if (r.source == model_source::trained && r.job_id.empty())
    return std::string("job_id: a trained version names its train job");
  if (r.source == model_source::imported && !r.job_id.empty())
    return std::string("job_id: an imported version has no train job");
  if (r.job_id.size() > max_short_text_bytes)
    return "job_id: at most " + std::to_string(max_short_text_bytes) + " bytes";
  if (!artifacts::is_sha256_hex(r.artifact_digest))
    return "artifact_digest: must be a sha256 digest, 64 lowercase hex digits";
  if (r.dataset_fingerprint.size() > max_short_text_bytes)
    return "dataset_fingerprint: at most " + std::to_string(max_short_text_bytes) + " bytes";
  if (auto p = json_object_problem("final_metrics", r.final_metrics_json, max_metrics_json_bytes))
    return p;
  if (auto p = json_object_problem("best_metrics", r.best_metrics_json, max_metrics_json_bytes))
    return p;
  if (auto p = signature_problem(r)) return p;
  return json_object_problem("params", r.params_json, max_params_json_bytes);
}

store::model_version_record record_of(const registration& r, int64_t now_ms) {
  store::model_version_record v;
  v.name = r.name;
  v.tenant = r.tenant;
  v.job_id = r.job_id;
  v.artifact_digest = r.artifact_digest;
  v.final_metrics_json = r.final_metrics_json;
  v.best_metrics_json = r.best_metrics_json;
  v.params_json = r.params_json;
  v.dataset_fingerprint = r.dataset_fingerprint;
  v.stage = to_string(stage::none);
  v.created_at_ms = now_ms;
  v.input_features = r.input_features;
  v.output_kind = to_string(r.outputs);
  v.classes = r.classes;
  v.source = to_string(r.source);
  return v;
}

msg::model_version to_msg(const store::model_version_record& v) {
  msg::model_version out;
  out.name = v.name;
  out.version = v.version;
  out.tenant = v.tenant;
  out.job_id = v.job_id;
  out.artifact_digest = v.artifact_digest;
  out.final_metrics_json = v.final_metrics_json;
  out.best_metrics_json = v.best_metrics_json;
  out.params_json = v.params_json;
  out.dataset_fingerprint = v.dataset_fingerprint;
  out.stage = stage_of(v.stage);
  out.created_at_ms = v.created_at_ms;
  out.input_features = v.input_features;
  out.output_kind = parse_output_kind(v.output_kind).value_or(output_kind::logits);
  out.classes = v.classes;
  out.source = parse_model_source(v.source).value_or(model_source::trained);
  return out;
}

const store::model_version_record* resolve(
    const model_ref& ref, const std::vector<store::model_version_record>& versions) {
  for (const auto& v : versions) {
    if (ref.version && v.version == ref.version) return &v;
    if (!ref.version && ref.in_stage != stage::none && v.stage == to_string(ref.in_stage))
      return &v;
  }
  return nullptr;
}

std::vector<store::model_stage_change> promotion(
    const std::vector<store::model_version_record>& versions, uint32_t version, stage to,
    const std::string& changed_by, int64_t at_ms) {
  const auto* target = resolve({"", version, stage::none}, versions);
  if (!target || target->stage == to_string(to)) return {};
  std::vector<store::model_stage_change> changes;
  auto change = [&](uint32_t v, stage s) {
    store::model_stage_change c;
    c.version = v;
    c.to_stage = to_string(s);
    c.changed_by = changed_by;
    c.at_ms = at_ms;
    changes.push_back(std::move(c));
  };
  if (to == stage::staging || to == stage::production)
    if (const auto* holder = resolve({"", 0, to}, versions))
      change(holder->version, stage::archived);
  change(version, to);
  return changes;
}

std::vector<msg::model_summary> summaries(const std::vector<store::model_version_record>& versions,
                                          const std::vector<store::model_stage_change>& changes) {
  std::map<std::string, int64_t> last_change;
  for (const auto& c : changes) last_change[c.name] = std::max(last_change[c.name], c.at_ms);
  std::vector<msg::model_summary> out;
  for (const auto& v : versions) {
    if (out.empty() || out.back().name != v.name) {
      out.emplace_back();
      out.back().name = v.name;
      out.back().tenant = v.tenant;
      out.back().updated_at_ms = last_change[v.name];
    }
    auto& m = out.back();
    m.latest_version = std::max(m.latest_version, v.version);
    ++m.versions;
    if (v.stage == to_string(stage::staging)) m.staging_version = v.version;
    if (v.stage == to_string(stage::production)) m.production_version = v.version;
    m.updated_at_ms = std::max(m.updated_at_ms, v.created_at_ms);
  }
  return out;
}

}  // namespace troupe::models
