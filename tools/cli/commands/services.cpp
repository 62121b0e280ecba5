#include "tools/cli/commands/services.hpp"

#include <cmath>
#include <sstream>

#include "cluster/inference/service_status_json.hpp"
#include "messages/safe_text.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

using nlohmann::json;

// "tokens required, 500/s burst 1000" (the limit per token, when there is one).
std::string auth_text(const inference::auth_policy& a) {
  std::ostringstream out;
  out << "tokens " << (a.tokens_required ? "required" : "optional");
  if (a.rate_limit_per_s > 0) out << ", " << a.rate_limit_per_s << "/s burst " << a.burst;
  return out.str();
}

// "100000 for 60 s", or "none".
std::string cache_text(const inference::cache_policy& c) {
  if (c.entries == 0) return "none";
  return std::to_string(c.entries) + " for " + std::to_string(c.ttl_s) + " s";
}

std::string versions_text(const inference::service_status& s) {
  std::string out;
  for (const auto& v : s.versions) {
    if (!out.empty()) out += ", ";
    out += "v" + std::to_string(v.version) + " (weight " + std::to_string(v.weight) + ", " +
           std::to_string(v.ready_replicas) + " ready, " + std::to_string(v.requests) +
           " requests" + (v.problem.empty() ? "" : ", " + msg::printable(v.problem)) + ")";
  }
  return out;
}

// The rows of `input`'s "features": one list of numbers, or a list of such lists.
result<msg::predict_request> read_input(const std::string& input) {
  const auto bad = [](const std::string& why) {
    return failure{exit_code::usage, "input: " + why};
  };
  const auto doc = json::parse(input, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return bad("expected a JSON object");
  const auto features = doc.find("features");
  if (features == doc.end() || !features->is_array() || features->empty())
    return bad("expected \"features\": a list of numbers, or a list of such lists");
  std::vector<json> rows = features->front().is_array() ? features->get<std::vector<json>>()
                                                        : std::vector<json>{*features};
  msg::predict_request out;
  out.feature_count = static_cast<uint32_t>(rows.front().size());
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!rows[r].is_array() || rows[r].size() != out.feature_count || out.feature_count == 0)
      return bad("row " + std::to_string(r) + " does not have " +
                 std::to_string(out.feature_count) + " features");
    for (const auto& value : rows[r]) {
      if (!value.is_number() || !std::isfinite(value.get<double>()))
        return bad("row " + std::to_string(r) + " holds a value that is not a finite number");
      out.features.push_back(value.get<float>());
    }
  }
  return out;
}

}  // namespace

command_output list_services(const session& s) {
  auto reply =
      s.call_in<msg::list_services_reply>(msg::inference_message{msg::list_services_request{}});
  if (!reply) return reply.error();
  if (s.config().json) {
    auto out = json::array();
    for (const auto& service : reply->services) out.push_back(inference::to_json(service));
    return json_text(out);
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "TENANT", "JOB", "MODEL", "READY", "AUTH", "CACHE", "VERSIONS"}};
  for (const auto& service : reply->services)
    rows.push_back({msg::printable(service.name), msg::printable(service.tenant), service.job_id,
                    msg::printable(service.model),
                    std::to_string(service.ready_replicas) + "/" + std::to_string(service.replicas),
                    auth_text(service.auth), cache_text(service.cache), versions_text(service)});
  return table(rows);
}

command_output predict(const session& s, const std::string& service, const std::string& input,
                       uint32_t version, const std::string& routing_key) {
  auto request = read_input(input);
  if (!request) return request.error();
  request->service = service;
  request->version = version;
  request->routing_key = routing_key;
  auto reply = s.call_in<msg::predict_reply>(msg::inference_message{std::move(*request)});
  if (!reply) return reply.error();
  auto outputs = json::array();
  for (uint32_t r = 0; r < reply->rows; ++r) {
    const auto begin =
        reply->outputs.begin() + static_cast<std::ptrdiff_t>(r * reply->output_count);
    outputs.push_back(std::vector<float>(begin, begin + reply->output_count));
  }
  if (s.config().json)
    return json_text({{"model", reply->model_name},
                      {"model_version", reply->model_version},
                      {"outputs", outputs}});
  std::vector<std::vector<std::string>> rows{{"ROW", "OUTPUTS"}};
  for (uint32_t r = 0; r < reply->rows; ++r) rows.push_back({std::to_string(r), outputs[r].dump()});
  return msg::printable(reply->model_name) + " version " + std::to_string(reply->model_version) +
         "\n" + table(rows);
}

}  // namespace troupe::cli
