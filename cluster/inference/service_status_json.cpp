#include "cluster/inference/service_status_json.hpp"

#include "cluster/inference/serve_spec.hpp"

namespace troupe::inference {
namespace {

nlohmann::json to_json(const served_version& v) {
  return {{"version", v.version},
          {"weight", v.weight},
          {"ready_replicas", v.ready_replicas},
          {"input_features", v.signature.input_features},
          {"outputs", models::to_string(v.signature.outputs)},
          {"classes", v.signature.classes},
          {"problem", v.problem},
          {"requests", v.requests}};
}

}  // namespace

nlohmann::json to_json(const service_status& s) {
  auto versions = nlohmann::json::array();
  for (const auto& v : s.versions) versions.push_back(to_json(v));
  return {{"name", s.name},       {"tenant", s.tenant},      {"job_id", s.job_id},
          {"model", s.model},     {"replicas", s.replicas},  {"ready_replicas", s.ready_replicas},
          {"versions", versions}, {"auth", to_json(s.auth)}, {"cache", to_json(s.cache)}};
}

}  // namespace troupe::inference
