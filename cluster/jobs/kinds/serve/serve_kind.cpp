#include "cluster/jobs/kinds/serve/serve_kind.hpp"

#include <cmath>
#include <set>

#include "cluster/inference/serve_spec.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/jobs/kinds/artifact_fields.hpp"
#include "cluster/jobs/kinds/common_launch.hpp"
#include "cluster/jobs/spec_reader.hpp"

namespace troupe::jobs {
namespace {

namespace limits = serve_limits;
using inference::serve_spec;

inference::batching_policy read_batching(const spec_map& spec) {
  inference::batching_policy out;
  const auto m = spec.map("batching");
  if (!m) return out;
  m->allow_only({"max_batch", "max_delay_ms"});
  out.max_batch =
      static_cast<uint32_t>(m->whole("max_batch", 1, limits::max_batch).value_or(out.max_batch));
  out.max_delay_ms = static_cast<uint32_t>(
      m->whole("max_delay_ms", 0, limits::max_delay_ms).value_or(out.max_delay_ms));
  return out;
}

// A split names its versions itself, so the model is named without one.
std::vector<inference::traffic_share> read_traffic(const spec_map& spec, const std::string& model) {
  const auto items = spec.map_list("traffic");
  if (!items) return {};
  const auto path = spec.path("traffic");
  if (items->empty() || items->size() > limits::max_traffic_versions)
    throw spec_error(path, "expected 1 to " + std::to_string(limits::max_traffic_versions) +
                               " versions, got " + std::to_string(items->size()));
  if (model.find('@') != std::string::npos)
    throw spec_error(path,
                     "a traffic split names its versions: give model as NAME, not " + shown(model));
  std::vector<inference::traffic_share> out;
  std::set<uint32_t> seen;
  uint64_t total = 0;
  for (size_t i = 0; i < items->size(); ++i) {
    const auto& item = (*items)[i];
    item.allow_only({"version", "weight"});
    inference::traffic_share share;
    share.version =
        static_cast<uint32_t>(item.required(item.whole("version", 1, UINT32_MAX), "version"));
    share.weight =
        static_cast<uint32_t>(item.required(item.whole("weight", 0, limits::max_weight), "weight"));
    if (!seen.insert(share.version).second)
      throw spec_error(item.path("version"),
                       "version " + std::to_string(share.version) + " is listed twice");
    total += share.weight;
    out.push_back(share);
  }
  if (total == 0) throw spec_error(path, "at least one weight must be above 0");
  return out;
}

inference::auth_policy read_auth(const spec_map& spec) {
  inference::auth_policy out;
  const auto m = spec.map("auth");
  if (!m) return out;
  m->allow_only({"tokens", "rate_limit_per_s", "burst"});
  if (const auto tokens = m->text("tokens")) {
    if (*tokens != "required" && *tokens != "optional")
      throw spec_error(m->path("tokens"),
                       "expected one of required, optional, got " + shown(*tokens));
    out.tokens_required = *tokens == "required";
  }
  out.rate_limit_per_s = m->number("rate_limit_per_s", 0, limits::max_rate_per_s, true).value_or(0);
  const auto burst = m->whole("burst", 1, limits::max_burst);
  if (burst && out.rate_limit_per_s == 0)
    throw spec_error(m->path("burst"), "a burst needs rate_limit_per_s");
  if (out.rate_limit_per_s > 0)
    out.burst = static_cast<uint32_t>(
        burst.value_or(static_cast<uint64_t>(std::ceil(out.rate_limit_per_s))));
  return out;
}

inference::cache_policy read_cache(const spec_map& spec) {
  inference::cache_policy out;
  const auto m = spec.map("cache");
  if (!m) return out;
  m->allow_only({"entries", "ttl_s"});
  out.entries = m->required(m->whole("entries", 1, limits::max_cache_entries), "entries");
  out.ttl_s =
      static_cast<uint32_t>(m->whole("ttl_s", 1, limits::max_cache_ttl_s).value_or(out.ttl_s));
  return out;
}

}  // namespace

std::vector<std::string_view> serve_kind::field_names() const {
  return {"model", "replicas", "device", "batching", "traffic", "auth", "cache"};
}

nlohmann::json serve_kind::parse_fields(const spec_map& spec) const {
  serve_spec out;
  out.model = model_reference(spec, "model");
  out.replicas = static_cast<uint32_t>(
      spec.whole("replicas", 1, spec_limits::max_tasks).value_or(out.replicas));
  if (const auto device = spec.text("device")) {
    if (*device != "cpu" && *device != "cuda")
      throw spec_error(spec.path("device"), "expected one of cpu, cuda, got " + shown(*device));
    out.device = *device == "cuda" ? inference::serve_device::cuda : inference::serve_device::cpu;
  }
  out.batching = read_batching(spec);
  out.traffic = read_traffic(spec, out.model);
  out.auth = read_auth(spec);
  out.cache = read_cache(spec);
  return inference::to_json(out);
}

void serve_kind::derive_common_fields(const spec_map& spec, job_spec& out) const {
  const auto replicas = out.kind_fields.at("replicas").get<uint32_t>();
  const auto tasks = spec.whole("tasks", 1, spec_limits::max_tasks);
  if (tasks && *tasks != replicas)
    throw spec_error(spec.path("tasks"),
                     "a serve job runs one task per replica: leave tasks out "
                     "or make it replicas (" +
                         std::to_string(replicas) + "), got " + std::to_string(*tasks));
  out.tasks = replicas;

  const bool cuda = out.kind_fields.at("device") == "cuda";
  const auto resources = spec.map("resources");
  const auto gpus = resources ? resources->whole("gpus", 0, spec_limits::max_gpus) : std::nullopt;
  const uint32_t per_replica = cuda ? 1 : 0;
  if (gpus && *gpus != per_replica)
    throw spec_error(resources->path("gpus"),
                     std::string(cuda ? "a cuda replica serves on one GPU: expected 1"
                                      : "a cpu replica uses no GPU: expected 0") +
                         " (or leave gpus out), got " + std::to_string(*gpus));
  out.resources.gpus = per_replica;

  // A service runs until it is cancelled: a replica that ends is started again.
  if (!spec.map("retries")) out.retries.max = spec_limits::max_retries;
}

task_launch serve_kind::launch(const job_spec& spec, const task_context& task) const {
  auto out = common_launch(spec, task);
  out.argv = {replica_program};
  out.env.emplace_back(serve_spec_variable, spec.kind_fields.dump());
  out.env.emplace_back("OPENBLAS_NUM_THREADS", "1");
  out.rank_link = true;  // every replica resolves and reports its versions through its node
  return out;
}

}  // namespace troupe::jobs
