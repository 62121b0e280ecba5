#include "tools/cli/commands/models.hpp"

#include <algorithm>

#include "cluster/models/model_ref.hpp"
#include "tools/cli/commands/data.hpp"
#include "tools/cli/display_text.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

using nlohmann::json;

template <class Reply, class Request>
result<Reply> call_models(const session& s, Request request) {
  return s.call_in<Reply>(msg::models_message{std::move(request)});
}

result<models::model_ref> read_ref(const std::string& text) {
  auto parsed = models::parse_ref(text);
  if (auto* why = std::get_if<std::string>(&parsed))
    return failure{exit_code::usage, "model " + msg::printable(text) + ": " + *why};
  return std::get<models::model_ref>(parsed);
}

std::string version_text(uint32_t version) { return version ? std::to_string(version) : "-"; }
json version_json(uint32_t version) { return version ? json(version) : json(nullptr); }

// A stored JSON text as JSON; text that is not JSON stays a string.
json embedded(const std::string& text) {
  if (text.empty()) return nullptr;
  auto parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json(text) : parsed;
}

json to_json(const msg::model_summary& m) {
  return {{"name", m.name},
          {"tenant", m.tenant},
          {"latest_version", m.latest_version},
          {"versions", m.versions},
          {"staging_version", version_json(m.staging_version)},
          {"production_version", version_json(m.production_version)},
          {"updated_at", m.updated_at_ms}};
}

json to_json(const msg::model_version& v) {
  return {{"name", v.name},
          {"version", v.version},
          {"tenant", v.tenant},
          {"stage", models::to_string(v.stage)},
          {"job_id", v.job_id},
          {"artifact_digest", v.artifact_digest},
          {"final_metrics", embedded(v.final_metrics_json)},
          {"best_metrics", embedded(v.best_metrics_json)},
          {"params", embedded(v.params_json)},
          {"dataset_fingerprint", v.dataset_fingerprint},
          {"created_at", v.created_at_ms},
          {"source", models::to_string(v.source)},
          {"input_features", v.input_features ? json(v.input_features) : json(nullptr)},
          {"outputs", models::to_string(v.output_kind)},
          {"classes", v.classes}};
}

std::string signature_text(const msg::model_version& v) {
  std::string text = std::string(models::to_string(v.output_kind)) + " from " +
                     (v.input_features ? std::to_string(v.input_features) : "any number of") +
                     " features";
  if (v.classes.empty()) return text;
  text += "; classes";
  for (const auto& c : v.classes) text += " " + msg::printable(c);
  return text;
}

json to_json(const msg::stage_change& c) {
  return {{"version", c.version},
          {"from", models::to_string(c.from_stage)},
          {"to", models::to_string(c.to_stage)},
          {"by", c.changed_by},
          {"at", c.at_ms}};
}

template <class T>
json json_list(const std::vector<T>& items) {
  auto out = json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}

std::string history_table(const std::vector<msg::stage_change>& changes) {
  std::vector<std::vector<std::string>> rows{{"AT", "VERSION", "FROM", "TO", "BY"}};
  for (const auto& c : changes)
    rows.push_back({utc_time(c.at_ms), std::to_string(c.version), models::to_string(c.from_stage),
                    models::to_string(c.to_stage), msg::printable(c.changed_by)});
  return table(rows);
}

std::string one_version_text(const msg::get_model_reply& reply) {
  const auto& v = reply.versions.front();
  auto text = table({{"model", msg::printable(v.name) + "@" + std::to_string(v.version)},
                     {"tenant", msg::printable(v.tenant)},
                     {"stage", models::to_string(v.stage)},
                     {"source", models::to_string(v.source)},
                     {"job", v.job_id.empty() ? "-" : msg::printable(v.job_id)},
                     {"signature", signature_text(v)},
                     {"created", utc_time(v.created_at_ms)},
                     {"artifact", msg::printable(v.artifact_digest)},
                     {"dataset", msg::printable(v.dataset_fingerprint)},
                     {"final metrics", msg::printable(v.final_metrics_json)},
                     {"best metrics", msg::printable(v.best_metrics_json)}});
  text += "\nhistory:\n" + history_table(reply.stage_changes);
  text += "\nparams: " + msg::printable(v.params_json) + "\n";
  return text;
}

std::string every_version_text(const msg::get_model_reply& reply) {
  const auto& m = reply.model;
  auto text = table({{"model", msg::printable(m.name)},
                     {"tenant", msg::printable(m.tenant)},
                     {"versions", std::to_string(m.versions)},
                     {"staging", version_text(m.staging_version)},
                     {"production", version_text(m.production_version)}});
  std::vector<std::vector<std::string>> rows{
      {"VERSION", "STAGE", "JOB", "CREATED", "ARTIFACT", "FINAL METRICS"}};
  for (const auto& v : reply.versions)
    rows.push_back({std::to_string(v.version), models::to_string(v.stage), msg::printable(v.job_id),
                    utc_time(v.created_at_ms), msg::printable(v.artifact_digest.substr(0, 12)),
                    msg::printable(v.final_metrics_json)});
  text += "\nversions:\n" + table(rows);
  text += "\nhistory:\n" + history_table(reply.stage_changes);
  return text;
}

}  // namespace

command_output list_models(const session& s, const std::string& tenant) {
  auto reply = call_models<msg::list_models_reply>(s, msg::list_models_request{tenant, 0});
  if (!reply) return reply.error();
  if (s.config().json) return json_text(json_list(reply->models));
  std::vector<std::vector<std::string>> rows{
      {"NAME", "TENANT", "LATEST", "VERSIONS", "STAGING", "PRODUCTION", "UPDATED"}};
  for (const auto& m : reply->models)
    rows.push_back({msg::printable(m.name), msg::printable(m.tenant),
                    std::to_string(m.latest_version), std::to_string(m.versions),
                    version_text(m.staging_version), version_text(m.production_version),
                    utc_time(m.updated_at_ms)});
  return table(rows);
}

command_output show_model(const session& s, const std::string& text) {
  auto ref = read_ref(text);
  if (!ref) return ref.error();
  auto reply = call_models<msg::get_model_reply>(
      s, msg::get_model_request{ref->name, ref->version, ref->in_stage});
  if (!reply) return reply.error();
  const bool one = ref->version || ref->in_stage != models::stage::none;
  if (one && reply->versions.size() != 1)
    return failure{exit_code::head_error, "the head did not answer with one version"};
  if (s.config().json)
    return json_text({{"model", to_json(reply->model)},
                      {"versions", json_list(reply->versions)},
                      {"stage_changes", json_list(reply->stage_changes)}});
  return one ? one_version_text(*reply) : every_version_text(*reply);
}

command_output promote_model(const session& s, const std::string& text,
                             const std::string& stage_name) {
  auto ref = read_ref(text);
  if (!ref) return ref.error();
  if (!ref->version)
    return failure{exit_code::usage,
                   "model promote takes NAME@VERSION, e.g. " + msg::printable(ref->name) + "@3"};
  const auto stage = models::parse_stage(stage_name);
  if (!stage)
    return failure{exit_code::usage, "--stage: none, staging, production or archived, not " +
                                         msg::printable(stage_name)};
  auto reply = call_models<msg::promote_model_reply>(
      s, msg::promote_model_request{ref->name, ref->version, *stage});
  if (!reply) return reply.error();
  if (s.config().json)
    return json_text(
        {{"version", to_json(reply->version)}, {"changes", json_list(reply->changes)}});
  const auto& v = reply->version;
  std::string line =
      msg::printable(v.name) + "@" + std::to_string(v.version) + " " + models::to_string(v.stage);
  if (reply->changes.empty()) return line + " (unchanged)\n";
  for (const auto& c : reply->changes)
    if (c.version != v.version)
      line += "; " + msg::printable(v.name) + "@" + std::to_string(c.version) + " " +
              models::to_string(c.to_stage);
  return line + "\n";
}

command_output export_model(const session& s, const std::string& text, const std::string& file,
                            std::ostream& progress, bool terminal) {
  auto ref = read_ref(text);
  if (!ref) return ref.error();
  auto reply = call_models<msg::get_model_reply>(
      s, msg::get_model_request{ref->name, ref->version, ref->in_stage});
  if (!reply) return reply.error();
  if (reply->versions.empty())
    return failure{exit_code::head_error, "model " + msg::printable(ref->name) + " has no version"};
  const auto& v = *std::max_element(reply->versions.begin(), reply->versions.end(),
                                    [](const msg::model_version& a, const msg::model_version& b) {
                                      return a.version < b.version;
                                    });
  const auto shown = msg::printable(v.name) + "@" + std::to_string(v.version);
  artifacts::download_spec spec;
  spec.tenant = v.tenant;
  spec.digest = v.artifact_digest;
  auto got = download_artifact(s, spec, file, progress, terminal, shown);
  if (!got) return failure{got.error().exit_code, shown + ": " + got.error().message};
  if (s.config().json)
    return json_text({{"model", to_json(v)}, {"file", file}, {"size", got->size}});
  return got->digest + "  " + msg::printable(file) + "\n";
}

namespace {

std::vector<std::string> split_labels(const std::string& text) {
  std::vector<std::string> labels;
  if (text.empty()) return labels;
  size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    labels.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) return labels;
    start = comma + 1;
  }
}

}  // namespace

command_output import_model(const session& s, const model_import_options& options,
                            std::ostream& progress, bool terminal) {
  if (!models::is_model_name(options.name))
    return failure{exit_code::usage, "model " + msg::printable(options.name) +
                                         ": a model name is " + models::name_rule};
  msg::import_model_request request;
  request.name = options.name;
  request.tenant = options.tenant;
  request.input_features = options.input_features;
  request.classes = split_labels(options.classes);
  const auto outputs = options.outputs.empty()
                           ? (request.classes.empty() ? models::output_kind::values
                                                      : models::output_kind::probabilities)
                           : models::parse_output_kind(options.outputs);
  if (!outputs)
    return failure{exit_code::usage, "--outputs: logits, probabilities or values, not " +
                                         msg::printable(options.outputs)};
  request.output_kind = *outputs;
  auto stored =
      upload_artifact(s, {options.file, options.name, options.tenant, "model"}, progress, terminal);
  if (!stored) return stored.error();
  request.artifact_digest = stored->digest;
  auto reply = call_models<msg::import_model_reply>(s, std::move(request));
  if (!reply) return reply.error();
  const auto& v = reply->version;
  if (s.config().json) return json_text(to_json(v));
  return msg::printable(v.name) + "@" + std::to_string(v.version) + " " + v.artifact_digest + "\n";
}

}  // namespace troupe::cli
