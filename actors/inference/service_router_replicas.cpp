// The service router's replicas' side (service_router_state.hpp): their resolutions, their
// reports, and the head's links to their prediction sockets.
#include <spdlog/spdlog.h>
#include <set>

#include "actors/atoms.hpp"
#include "actors/inference/service_router_state.hpp"
#include "cluster/inference/serve_spec.hpp"
#include "cluster/jobs/kinds/predict/predict_spec.hpp"
#include "cluster/models/model_ref.hpp"
#include "cluster/models/registry_rules.hpp"
#include "cluster/security/curve_keys.hpp"
#include "config/endpoint.hpp"
#include "config/settings.hpp"
#include "messages/safe_text.hpp"

namespace troupe::inference::router_detail {
namespace {

// What a version of the registry takes and gives: its stored signature.
model_signature signature_of(const store::model_version_record& v) {
  model_signature out;
  out.input_features = v.input_features;
  out.outputs = models::parse_output_kind(v.output_kind).value_or(output_kind::logits);
  out.classes = v.classes;
  return out;
}

// The versions a serve spec names now, from the model's stored versions (by version).
std::variant<msg::resolve_service_reply, msg::error> resolve_versions(
    const serve_spec& spec, const std::vector<store::model_version_record>& versions) {
  auto parsed = models::parse_ref(spec.model);
  if (std::holds_alternative<std::string>(parsed))
    return error(msg::error_code::internal, "the stored model reference is not valid");
  const auto ref = std::get<models::model_ref>(parsed);
  msg::resolve_service_reply out;
  out.model_name = ref.name;
  auto add = [&](const store::model_version_record& v, uint32_t weight) {
    out.versions.push_back({v.version, v.artifact_digest, signature_of(v), weight});
  };
  if (!spec.traffic.empty()) {
    for (const auto& share : spec.traffic)
      if (const auto* v = models::resolve({ref.name, share.version, models::stage::none}, versions))
        add(*v, share.weight);
  } else if (const auto* v = ref.version || ref.in_stage != models::stage::none
                                 ? models::resolve(ref, versions)
                                 : (versions.empty() ? nullptr : &versions.back())) {
    add(*v, 100);
  }
  if (out.versions.empty())
    return error(msg::error_code::not_found, "model " + spec.model + " names no version now");
  return out;
}

// Answers a checked replica's resolution and records it.
void answer_resolve(self_ptr self, const inbound& in, const msg::resolve_service_request& r,
                    const job_view& job) {
  auto& st = self->state;
  serve_spec spec;
  std::vector<store::model_version_record> versions;
  // A predict job's task resolves its model alike, as a service of one replica that no one asks.
  const bool predict_task = job.kind == "predict";
  try {
    const auto json = nlohmann::json::parse(job.spec_json);
    if (predict_task)
      spec.model = jobs::predict_spec_from_json(json).model;
    else
      spec = serve_spec_from_json(json);
    const auto name = std::get<models::model_ref>(models::parse_ref(spec.model)).name;
    for (auto& v : st.deps.store->models().load_versions(name))
      if (v.tenant == job.tenant) versions.push_back(std::move(v));
  } catch (const std::exception& e) {  // the store failed, or a stored spec is not one
    return reply(self, in, error(msg::error_code::unavailable, e.what()));
  }
  auto resolved = resolve_versions(spec, versions);
  if (auto* e = std::get_if<msg::error>(&resolved)) return reply(self, in, std::move(*e));
  auto& out = std::get<msg::resolve_service_reply>(resolved);
  if (predict_task) return reply(self, in, msg::inference_message{std::move(out)});
  out.service = job.name;
  std::vector<resolved_version> table_versions;
  std::set<uint32_t> named;
  for (const auto& v : out.versions) {
    table_versions.push_back({v.version, v.weight, v.signature});
    named.insert(v.version);
  }
  // A service's access changes only when it appears (its spec is fixed); the sweep publishes
  // its end.
  auto fresh_accesses = with_table(self, [&](service_table& table) {
    const bool fresh = !table.runs(job.job_id);
    table.resolved(
        {job.name, job.tenant, job.job_id, spec.model, spec.replicas, spec.auth, spec.cache},
        out.model_name, std::move(table_versions), r.attempt_id, in.peer, steady::now());
    return fresh ? std::optional(table.accesses()) : std::nullopt;
  });
  st.replica_hosts[r.attempt_id] = job.node_address;
  if (fresh_accesses) st.deps.access->publish(std::move(*fresh_accesses));
  // A cache answers only for the versions the service resolves to now.
  if (spec.cache.entries > 0) st.deps.desk->keep_cache(job.job_id, spec.cache, named);
  reload_resolved(self, r.attempt_id);
  reply(self, in, msg::inference_message{std::move(out)});
}

// Why the prediction socket a replica's report names is not taken, or nullopt: it must be at the
// address its node registered with (the head connects to nothing else a node names).
std::optional<msg::error> socket_problem(self_ptr self, const msg::replica_report& r) {
  std::string host;
  try {
    host = config::parse_tcp_endpoint(r.predict_endpoint, "predictEndpoint",
                                      config::endpoint_use::connect)
               .host;
  } catch (const config::config_error& e) {
    return error(msg::error_code::invalid_request, e.what());
  }
  if (!security::is_z85_key(r.predict_public_key))
    return error(msg::error_code::invalid_request,
                 "predictPublicKey: expected the socket's Z85 public key");
  const auto& hosts = self->state.replica_hosts;
  if (auto it = hosts.find(r.attempt_id); it != hosts.end() && it->second != host)
    return error(msg::error_code::permission_denied,
                 "predictEndpoint: " + msg::printable(r.predict_endpoint) +
                     " is not at its node's address " + msg::printable(it->second));
  return std::nullopt;
}

}  // namespace

void on_resolve(self_ptr self, const inbound& in, const msg::resolve_service_request& r) {
  const auto node_id = in.sender->node_id;
  self->request(self->state.deps.jobs, job_service_timeout, actors::attempt_atom::value,
                r.attempt_id)
      .then(
          [self, in, r, node_id](const job_view& v) {
            if (!v.known || v.node_id != node_id || (v.kind != "serve" && v.kind != "predict"))
              return reply(
                  self, in,
                  error(msg::error_code::permission_denied,
                        "attempt " + r.attempt_id + " is no replica or predict task on this node"));
            if (!v.current)
              return reply(self, in,
                           error(msg::error_code::conflict,
                                 "attempt " + r.attempt_id + " has ended or was superseded"));
            answer_resolve(self, in, r, v);
          },
          [self, in](const caf::error&) {
            reply(self, in, error(msg::error_code::unavailable, "the job service did not answer"));
          });
}

void unlink_replica(self_ptr self, const std::string& attempt_id, const std::string& why) {
  auto& st = self->state;
  st.replica_hosts.erase(attempt_id);
  st.deps.desk->unlink(attempt_id, why);
}

void on_report(self_ptr self, const inbound& in, const msg::replica_report& r) {
  std::vector<std::pair<uint32_t, std::string>> versions;
  for (const auto& v : r.versions) versions.emplace_back(v.version, v.problem);
  auto& st = self->state;
  const auto unresolved =
      error(msg::error_code::conflict,
            "attempt " + r.attempt_id + " has not resolved its service from this node");
  const bool resolved = with_table(
      self, [&](service_table& table) { return table.service_of(r.attempt_id) != nullptr; });
  if (!resolved || !st.replica_hosts.count(r.attempt_id)) return reply(self, in, unresolved);
  if (auto problem = socket_problem(self, r)) return reply(self, in, std::move(*problem));
  try {
    st.deps.desk->link(r.attempt_id, r.predict_endpoint, r.predict_public_key);
  } catch (const zmq::error_t& e) {
    return reply(self, in,
                 error(msg::error_code::invalid_request, "predictEndpoint: cannot connect to " +
                                                             r.predict_endpoint + ": " + e.what()));
  }
  // Ready for what it loaded only once it can be reached.
  std::optional<std::string> service_name;
  std::vector<msg::loaded_version> served;
  with_table(self, [&](service_table& table) {
    if (!table.reported(r.attempt_id, in.peer, versions)) return;
    const auto* service = table.service_of(r.attempt_id);
    service_name = service->name;
    for (const auto& v : r.versions)
      if (table.serves(service->job_id, v.version)) served.push_back(v);
  });
  if (!service_name) return reply(self, in, unresolved);
  st.deps.figures->report(r.attempt_id, *service_name, in.sender->node_id, served, steady::now());
  reply(self, in, msg::inference_message{msg::replica_report_reply{}});
  reload_heard(self, r.attempt_id, false);
}

}  // namespace troupe::inference::router_detail
