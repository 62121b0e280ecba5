#include "cluster/models/registry.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>

#include "messages/safe_text.hpp"

namespace troupe::models {
namespace {

using store::model_registration;
using store::model_version_record;

msg::error invalid(std::string why) { return {msg::error_code::invalid_request, std::move(why)}; }
msg::error not_found(std::string why) { return {msg::error_code::not_found, std::move(why)}; }

// Logged once here, where it is handled; the client gets `unavailable`.
msg::error store_failed(const store::store_error& e) {
  spdlog::error("model registry: {}", e.what());
  return {msg::error_code::unavailable, "the store failed; try again later"};
}

bool may_see(const caller& who, const std::string& tenant) {
  return who.role == msg::key_role::admin || who.tenant == tenant;
}

stage stage_of(const std::string& stored) { return parse_stage(stored).value_or(stage::none); }

msg::stage_change to_msg(const store::model_stage_change& c) {
  return {c.version, stage_of(c.from_stage), stage_of(c.to_stage), c.changed_by, c.at_ms};
}

msg::body in_models(msg::models_message m) { return msg::body{std::move(m)}; }

}  // namespace

registry::registry(store::models_store& store, store::artifacts_store& artifacts,
                   std::function<int64_t()> now_ms)
    : store_(store), artifacts_(artifacts), now_ms_(std::move(now_ms)) {}

registration_result registry::register_version(const registration& r) {
  if (auto problem = registration_problem(r)) return invalid(*problem);
  auto stored = store_checked(r);
  if (auto* e = std::get_if<msg::error>(&stored)) return std::move(*e);
  return std::get<store::model_version_record>(stored).version;
}

std::variant<store::model_version_record, msg::error> registry::store_checked(
    const registration& r) {
  model_registration stored;
  try {
    stored = store_.register_version(record_of(r, now_ms_()));
  } catch (const store::store_error& e) {
    return store_failed(e);
  }
  const auto& v = stored.version;
  switch (stored.result) {
    case model_registration::outcome::other_tenant:
      return msg::error{msg::error_code::conflict,
                        "name: model " + r.name + " belongs to another tenant"};
    case model_registration::outcome::existing:
      if (v.name != r.name)
        return msg::error{msg::error_code::conflict, "job_id: job " + r.job_id +
                                                         " registered model " + v.name +
                                                         " version " + std::to_string(v.version)};
      return v;
    case model_registration::outcome::registered:
      spdlog::info("model {} version {} {} (tenant {})", v.name, v.version,
                   v.job_id.empty() ? "imported" : "registered by job " + msg::printable(v.job_id),
                   msg::printable(v.tenant));
      return v;
  }
  return msg::error{msg::error_code::internal, "unknown registration outcome"};
}

msg::body registry::answer(const caller& who, const msg::models_message& request) {
  try {
    if (const auto* r = std::get_if<msg::list_models_request>(&request.body)) return list(who, *r);
    if (const auto* r = std::get_if<msg::get_model_request>(&request.body)) return get(who, *r);
    if (const auto* r = std::get_if<msg::promote_model_request>(&request.body))
      return promote(who, *r);
    if (const auto* r = std::get_if<msg::import_model_request>(&request.body))
      return import(who, *r);
  } catch (const store::store_error& e) {
    return store_failed(e);
  }
  return invalid("a reply is not a request");
}

std::variant<std::vector<model_version_record>, msg::error> registry::visible_versions(
    const caller& who, const std::string& name) {
  if (!is_model_name(name)) return invalid(std::string("name: ") + name_rule);
  auto versions = store_.load_versions(name);
  if (versions.empty() || !may_see(who, versions.front().tenant))
    return not_found("no model " + name);
  return versions;
}

msg::body registry::list(const caller& who, const msg::list_models_request& r) {
  const auto limit = r.limit == 0 ? default_list_limit : r.limit;
  msg::list_models_reply out;
  for (const auto& s : summaries(store_.load_versions(""), store_.load_stage_changes(""))) {
    if (out.models.size() == limit) break;
    if (may_see(who, s.tenant) && (r.tenant.empty() || s.tenant == r.tenant))
      out.models.push_back(s);
  }
  return in_models({std::move(out)});
}

msg::body registry::get(const caller& who, const msg::get_model_request& r) {
  if (r.version && r.stage != stage::none) return invalid("name a version or a stage, not both");
  if (r.stage == stage::archived)
    return invalid("stage: a version is named by the stage staging or production only");
  auto found = visible_versions(who, r.name);
  if (auto* e = std::get_if<msg::error>(&found)) return *e;
  const auto& versions = std::get<std::vector<model_version_record>>(found);
  const auto changes = store_.load_stage_changes(r.name);
  msg::get_model_reply out;
  out.model = summaries(versions, changes).front();
  if (!r.version && r.stage == stage::none) {
    for (auto v = versions.rbegin(); v != versions.rend(); ++v) {
      if (out.versions.size() == versions_per_reply) break;
      out.versions.push_back(to_msg(*v));
      out.versions.back().params_json.clear();
    }
    const auto first = changes.size() > stage_changes_per_reply
                           ? changes.end() - stage_changes_per_reply
                           : changes.begin();
    for (auto c = first; c != changes.end(); ++c) out.stage_changes.push_back(to_msg(*c));
    return in_models({std::move(out)});
  }
  const model_ref ref{r.name, r.version, r.stage};
  const auto* v = resolve(ref, versions);
  if (!v)
    return not_found(r.version ? "model " + r.name + " has no version " + std::to_string(r.version)
                               : "no version of model " + r.name + " is in " + to_string(r.stage));
  out.versions.push_back(to_msg(*v));
  for (const auto& c : changes)
    if (c.version == v->version) out.stage_changes.push_back(to_msg(c));
  return in_models({std::move(out)});
}

msg::body registry::promote(const caller& who, const msg::promote_model_request& r) {
  if (!r.version) return invalid("version: name the version to promote (NAME@VERSION)");
  auto found = visible_versions(who, r.name);
  if (auto* e = std::get_if<msg::error>(&found)) return *e;
  if (!resolve({r.name, r.version, stage::none}, std::get<0>(found)))
    return not_found("model " + r.name + " has no version " + std::to_string(r.version));
  const auto at_ms = now_ms_();
  const auto changes = store_.change_stages(r.name, [&](const auto& versions) {
    return promotion(versions, r.version, r.stage, who.key_id, at_ms);
  });
  for (const auto& c : changes)
    spdlog::info("model {} version {}: {} -> {} (key {})", c.name, c.version, c.from_stage,
                 c.to_stage, who.key_id);
  const auto now = store_.load_versions(r.name);
  msg::promote_model_reply out;
  out.version = to_msg(*resolve({r.name, r.version, stage::none}, now));
  for (const auto& c : changes) out.changes.push_back(to_msg(c));
  return in_models({std::move(out)});
}

msg::body registry::import(const caller& who, const msg::import_model_request& r) {
  auto tenant = r.tenant.empty() ? std::string("default") : r.tenant;
  if (who.role != msg::key_role::admin) {
    if (!r.tenant.empty() && r.tenant != who.tenant)
      return msg::error{msg::error_code::permission_denied,
                        "tenant: this key may only import into tenant " + who.tenant};
    tenant = who.tenant;
  }
  registration in;
  in.name = r.name;
  in.tenant = tenant;
  in.artifact_digest = r.artifact_digest;
  in.final_metrics_json = in.best_metrics_json = in.params_json = "{}";
  in.input_features = r.input_features;
  in.outputs = r.output_kind;
  in.classes = r.classes;
  in.source = model_source::imported;
  if (auto problem = registration_problem(in)) return invalid(*problem);
  const auto artifacts = artifacts_.load_artifacts();
  const bool uploaded = std::any_of(artifacts.begin(), artifacts.end(), [&](const auto& a) {
    return a.tenant == tenant && a.digest == r.artifact_digest && a.kind == "model";
  });
  if (!uploaded)
    return not_found("artifactDigest: tenant " + tenant + " has no model artifact with sha256 " +
                     r.artifact_digest);
  const auto got = store_checked(in);
  if (const auto* e = std::get_if<msg::error>(&got)) return *e;
  return in_models({msg::import_model_reply{to_msg(std::get<store::model_version_record>(got))}});
}

}  // namespace troupe::models
