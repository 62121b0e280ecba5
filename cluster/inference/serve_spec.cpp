#include "cluster/inference/serve_spec.hpp"

namespace troupe::inference {

const char* to_string(serve_device device) { return device == serve_device::cuda ? "cuda" : "cpu"; }

nlohmann::json to_json(const serve_spec& spec) {
  nlohmann::json out{
      {"model", spec.model},
      {"replicas", spec.replicas},
      {"device", to_string(spec.device)},
      {"batching",
       {{"max_batch", spec.batching.max_batch}, {"max_delay_ms", spec.batching.max_delay_ms}}},
  };
  if (!spec.traffic.empty()) {
    auto& traffic = out["traffic"] = nlohmann::json::array();
    for (const auto& share : spec.traffic)
      traffic.push_back({{"version", share.version}, {"weight", share.weight}});
  }
  if (!spec.auth.tokens_required || spec.auth.rate_limit_per_s > 0)
    out["auth"] = to_json(spec.auth);
  if (spec.cache.entries > 0) out["cache"] = to_json(spec.cache);
  return out;
}

nlohmann::json to_json(const auth_policy& auth) {
  nlohmann::json out{{"tokens", auth.tokens_required ? "required" : "optional"}};
  if (auth.rate_limit_per_s > 0) {
    out["rate_limit_per_s"] = auth.rate_limit_per_s;
    out["burst"] = auth.burst;
  }
  return out;
}

nlohmann::json to_json(const cache_policy& cache) {
  return {{"entries", cache.entries}, {"ttl_s", cache.ttl_s}};
}

serve_spec serve_spec_from_json(const nlohmann::json& json) {
  serve_spec out;
  out.model = json.at("model").get<std::string>();
  out.replicas = json.at("replicas").get<uint32_t>();
  out.device = json.at("device") == "cuda" ? serve_device::cuda : serve_device::cpu;
  out.batching.max_batch = json.at("batching").at("max_batch").get<uint32_t>();
  out.batching.max_delay_ms = json.at("batching").at("max_delay_ms").get<uint32_t>();
  if (const auto traffic = json.find("traffic"); traffic != json.end())
    for (const auto& share : *traffic)
      out.traffic.push_back(
          {share.at("version").get<uint32_t>(), share.at("weight").get<uint32_t>()});
  if (const auto auth = json.find("auth"); auth != json.end()) {
    out.auth.tokens_required = auth->at("tokens") == "required";
    out.auth.rate_limit_per_s = auth->value("rate_limit_per_s", 0.0);
    out.auth.burst = auth->value("burst", 0u);
  }
  if (const auto cache = json.find("cache"); cache != json.end()) {
    out.cache.entries = cache->at("entries").get<uint64_t>();
    out.cache.ttl_s = cache->at("ttl_s").get<uint32_t>();
  }
  return out;
}

}  // namespace troupe::inference
