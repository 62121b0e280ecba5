#include "actors/inference/service_router.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include "actors/atoms.hpp"
#include "actors/inference/service_table.hpp"
#include "actors/jobs/job_service.hpp"
#include "cluster/inference/prediction_endpoint.hpp"
#include "cluster/inference/response_cache.hpp"
#include "cluster/inference/serve_spec.hpp"
#include "cluster/jobs/kinds/predict/predict_spec.hpp"
#include "cluster/models/model_ref.hpp"
#include "cluster/models/registry_rules.hpp"
#include "cluster/security/curve_keys.hpp"
#include "messages/safe_text.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::inference::prediction_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::function<void(troupe::inference::prediction_result)>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::function<void(std::vector<troupe::inference::service_status>)>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::function<void(std::optional<troupe::msg::error>)>)

namespace troupe::inference {
namespace {

using actors::inbound;
using job_service::job_view;
using steady = std::chrono::steady_clock;
using done_fn = std::function<void(prediction_result)>;
using services_fn = std::function<void(std::vector<service_status>)>;
using reload_fn = std::function<void(std::optional<msg::error>)>;

using predict_atom = caf::atom_constant<caf::atom("predict")>;
using services_atom = caf::atom_constant<caf::atom("services")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;

constexpr auto job_service_timeout = std::chrono::seconds(5);
constexpr auto replica_wait = std::chrono::seconds(5);
constexpr auto reload_wait = std::chrono::seconds(10);
constexpr auto sweep_interval = std::chrono::milliseconds(250);
constexpr uint32_t most_features = 65'536;
constexpr uint32_t most_rows = 4096;
// The ids of the router's requests to nodes: apart from every id a node's own requests use, so
// that sending one never releases a request of the node's budget (wire_endpoint::send).
constexpr uint64_t router_id_bit = uint64_t{1} << 62;

// A prediction on its way to a replica.
struct pending {
  prediction_request request;
  done_fn done;
  route to;
  bool retried = false;
  steady::time_point give_up;
};

// A reload waiting for its service's replicas: each was told to resolve now, and counts once it
// resolved after that and then reported what it loaded.
struct reload {
  std::string service;
  std::map<std::string, bool> replicas;  // attempt id -> resolved since it was told
  std::vector<std::string> problems;     // "replica A: version V: why"
  steady::time_point give_up;
  reload_fn done;
};

// The head's connection to one replica's prediction socket: a DEALER of its own, whose thread
// hands each answer to the router.
struct replica_link {
  std::string endpoint;
  std::string public_key;
  std::unique_ptr<transport::socket_loop> loop;
};

struct router_state {
  static inline const char* name = "service_router";
  service_router_deps deps;
  zmq::context_t context{1};                  // the replica links'
  std::map<std::string, replica_link> links;  // by attempt id
  // The address each replica's node registered with, from its resolution: by attempt id.
  std::map<std::string, std::string> replica_hosts;
  service_table table{std::random_device{}()};
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, pending> waiting;  // by the request id sent to the node
  std::map<std::string, response_cache> caches;   // by job id, of services with a cache
  std::vector<reload> reloads;
};

using self_ptr = caf::stateful_actor<router_state>*;

msg::error error(msg::error_code code, std::string why) { return {code, std::move(why)}; }

void reply(self_ptr self, const inbound& in, msg::body body) {
  self->state.deps.endpoint->send(
      in.peer, msg::reply_to(in.env, self->state.deps.self_name, std::move(body)));
}

prediction_result failure(msg::error e) {
  prediction_result out;
  out.error = std::move(e);
  return out;
}

std::optional<msg::error> problem_of(const prediction_request& r) {
  if (r.service.empty()) return error(msg::error_code::invalid_request, "service: required");
  if (r.feature_count < 1 || r.feature_count > most_features)
    return error(msg::error_code::invalid_request,
                 "featureCount: must be 1 to 65536, got " + std::to_string(r.feature_count));
  if (r.features.empty() || r.features.size() % r.feature_count != 0)
    return error(msg::error_code::invalid_request,
                 "features: expected whole rows of " + std::to_string(r.feature_count) +
                     " values, got " + std::to_string(r.features.size()) + " values");
  if (r.features.size() / r.feature_count > most_rows)
    return error(msg::error_code::invalid_request,
                 "features: at most 4096 rows per request, got " +
                     std::to_string(r.features.size() / r.feature_count));
  return std::nullopt;
}

// Answers `p` from its service's cache when that holds these features of the version chosen.
bool answered_from_cache(self_ptr self, pending& p) {
  auto& st = self->state;
  auto cache = st.caches.find(p.to.job_id);
  if (cache == st.caches.end()) return false;
  auto hit = cache->second.lookup(p.to.version, p.request.feature_count, p.request.features,
                                  steady::now());
  st.deps.cache_lookups->lookup(p.request.service, hit.has_value());
  if (!hit) return false;
  st.table.answered(p.to.job_id, p.to.version);
  p.done(std::move(*hit));
  return true;
}

void replica_failed(self_ptr self, pending p, const std::string& why);
void unlink_replica(self_ptr self, const std::string& attempt_id, const std::string& why);

// Sends `p` to a replica (another than `avoid`), or answers it with why not.
void dispatch(self_ptr self, pending p, const std::string& avoid = {}) {
  auto& st = self->state;
  auto chosen = st.table.route_request(p.request, avoid);
  if (auto* e = std::get_if<msg::error>(&chosen)) return p.done(failure(std::move(*e)));
  p.to = std::get<route>(std::move(chosen));
  if (!p.retried && answered_from_cache(self, p)) return;
  p.give_up = steady::now() + replica_wait;
  msg::envelope out;
  out.request_id = router_id_bit | st.next_id++;
  out.sender = st.deps.self_name;
  out.body = msg::inference_message{
      msg::predict_request{p.request.service, p.to.version, p.request.feature_count,
                           p.request.features, p.request.routing_key, p.to.attempt_id}};
  auto link = st.links.find(p.to.attempt_id);
  if (link == st.links.end())
    return replica_failed(self, std::move(p), "it has named no prediction socket");
  const auto id = out.request_id;
  link->second.loop->send({}, msg::encode(out));
  st.waiting.emplace(id, std::move(p));
}

// The replica did not answer: once more on another, else `unavailable` with why.
void replica_failed(self_ptr self, pending p, const std::string& why) {
  self->state.table.failed(p.to.attempt_id);
  spdlog::info("replica {} of {} failed a prediction: {}", p.to.attempt_id, p.request.service, why);
  if (p.retried)
    return p.done(
        failure(error(msg::error_code::unavailable,
                      "the replicas of " + p.request.service + " did not answer: " + why)));
  p.retried = true;
  const auto avoid = p.to.attempt_id;
  dispatch(self, std::move(p), avoid);
}

void predict(self_ptr self, prediction_request request, done_fn done) {
  if (auto e = problem_of(request)) return done(failure(std::move(*e)));
  pending p;
  p.request = std::move(request);
  p.done = std::move(done);
  dispatch(self, std::move(p));
}

// A replica's answer (a reply or an error) to a prediction the router sent it.
void from_replica(self_ptr self, const std::string& attempt_id, const msg::envelope& env) {
  auto& st = self->state;
  auto it = st.waiting.find(env.request_id);
  if (it == st.waiting.end() || it->second.to.attempt_id != attempt_id) return;
  auto p = std::move(it->second);
  st.waiting.erase(it);
  if (const auto* e = std::get_if<msg::error>(&env.body)) {
    // The replica refused the request itself: that is the answer.
    if (e->code == msg::error_code::invalid_request) return p.done(failure(*e));
    return replica_failed(self, std::move(p), e->message);
  }
  const auto* m = std::get_if<msg::inference_message>(&env.body);
  const auto* r = m ? std::get_if<msg::predict_reply>(&m->body) : nullptr;
  if (!r) return replica_failed(self, std::move(p), "an unexpected answer");
  st.table.answered(p.to.job_id, p.to.version);
  prediction_result out;
  out.model_name = r->model_name;
  out.model_version = r->model_version;
  out.rows = r->rows;
  out.output_count = r->output_count;
  out.outputs = r->outputs;
  out.signature = std::move(p.to.signature);
  if (auto cache = st.caches.find(p.to.job_id); cache != st.caches.end())
    cache->second.store(p.to.version, p.request.feature_count, p.request.features, out,
                        steady::now());
  p.done(std::move(out));
}

// Answers a reload whose replicas all reported: done, or why some keep serving what they served.
void reload_answered(reload& r) {
  if (r.problems.empty()) return r.done(std::nullopt);
  std::string why = r.service + " serves what it served before where a replica cannot load:";
  for (const auto& p : r.problems) why += " " + p + ";";
  why.pop_back();
  r.done(msg::error{msg::error_code::conflict, std::move(why)});
}

// Tells every replica of the service to resolve now (through its node), and answers once they
// have reported what they then serve, or after reload_wait.
void start_reload(self_ptr self, const std::string& service, const std::string& tenant,
                  reload_fn done) {
  auto& st = self->state;
  const auto replicas = st.table.replicas_of(service, tenant);
  if (!replicas) return done(msg::error{msg::error_code::not_found, "unknown model: " + service});
  if (replicas->empty())
    return done(msg::error{msg::error_code::unavailable,
                           "no replica of " + service + " answers now: retry later"});
  reload r{service, {}, {}, steady::now() + reload_wait, std::move(done)};
  for (const auto& replica : *replicas) {
    r.replicas[replica.attempt_id] = false;
    msg::envelope out;
    out.request_id = router_id_bit | st.next_id++;
    out.sender = st.deps.self_name;
    out.body = msg::inference_message{msg::resolve_service_request{replica.attempt_id}};
    st.deps.endpoint->send(replica.node_peer, out);
  }
  st.reloads.push_back(std::move(r));
}

void reload_resolved(self_ptr self, const std::string& attempt_id) {
  for (auto& r : self->state.reloads) {
    auto it = r.replicas.find(attempt_id);
    if (it != r.replicas.end()) it->second = true;
  }
}

// The replica no longer keeps the reloads waiting on it: it reported after resolving, or its
// attempt ended.
void reload_heard(self_ptr self, const std::string& attempt_id, bool ended) {
  auto& reloads = self->state.reloads;
  for (auto r = reloads.begin(); r != reloads.end();) {
    auto it = r->replicas.find(attempt_id);
    if (it != r->replicas.end() && (it->second || ended)) {
      if (!ended)
        for (const auto& p : self->state.table.problems_of(attempt_id))
          r->problems.push_back("replica " + attempt_id + ": " + p);
      r->replicas.erase(it);
    }
    if (!r->replicas.empty()) {
      ++r;
      continue;
    }
    reload_answered(*r);
    r = reloads.erase(r);
  }
}

void sweep_reloads(self_ptr self, steady::time_point now) {
  auto& reloads = self->state.reloads;
  for (auto r = reloads.begin(); r != reloads.end();) {
    if (r->give_up > now) {
      ++r;
      continue;
    }
    std::string late;
    for (const auto& [id, resolved] : r->replicas) late += (late.empty() ? "" : ", ") + id;
    r->done(msg::error{msg::error_code::timeout,
                       "replicas " + late + " of " + r->service +
                           " did not report within 10 s; they go on loading"});
    r = reloads.erase(r);
  }
}

void sweep(self_ptr self) {
  auto& st = self->state;
  const auto now = steady::now();
  sweep_reloads(self, now);
  std::vector<pending> late;
  for (auto it = st.waiting.begin(); it != st.waiting.end();) {
    if (it->second.give_up > now) {
      ++it;
      continue;
    }
    late.push_back(std::move(it->second));
    it = st.waiting.erase(it);
  }
  for (auto& p : late) replica_failed(self, std::move(p), "no answer within 5 s");
  st.table.drop_silent(now);
  std::vector<std::string> dropped;
  for (const auto& [attempt_id, host] : st.replica_hosts)
    if (!st.table.service_of(attempt_id)) dropped.push_back(attempt_id);
  for (const auto& attempt_id : dropped) unlink_replica(self, attempt_id, "it went silent");
  for (auto it = st.caches.begin(); it != st.caches.end();)
    it = st.table.runs(it->first) ? std::next(it) : st.caches.erase(it);
  st.deps.access->publish(st.table.accesses());
  st.deps.figures->forget_silent(now);
}

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
  const bool fresh = !st.table.runs(job.job_id);
  st.table.resolved(
      {job.name, job.tenant, job.job_id, spec.model, spec.replicas, spec.auth, spec.cache},
      out.model_name, std::move(table_versions), r.attempt_id, in.peer, steady::now());
  st.replica_hosts[r.attempt_id] = job.node_address;
  // A service's access changes only when it appears (its spec is fixed); the sweep publishes
  // its end.
  if (fresh) st.deps.access->publish(st.table.accesses());
  // A cache answers only for the versions the service resolves to now.
  if (spec.cache.entries > 0)
    st.caches.try_emplace(job.job_id, spec.cache).first->second.keep_only(named);
  reload_resolved(self, r.attempt_id);
  reply(self, in, msg::inference_message{std::move(out)});
}

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

// What waits on the replica is asked of another at once.
void retry_waiting_on(self_ptr self, const std::string& attempt_id, const std::string& why) {
  auto& st = self->state;
  std::vector<pending> orphaned;
  for (auto it = st.waiting.begin(); it != st.waiting.end();) {
    if (it->second.to.attempt_id != attempt_id) {
      ++it;
      continue;
    }
    orphaned.push_back(std::move(it->second));
    it = st.waiting.erase(it);
  }
  for (auto& p : orphaned) replica_failed(self, std::move(p), why);
}

// Connects to the prediction socket a replica's report names (again, when it names another).
// Throws zmq::error_t when libzmq refuses the address; the link the replica had stays then.
void link_replica(self_ptr self, const std::string& attempt_id, const msg::replica_report& r) {
  auto& st = self->state;
  auto known = st.links.find(attempt_id);
  if (known != st.links.end() && known->second.endpoint == r.predict_endpoint &&
      known->second.public_key == r.predict_public_key)
    return;
  transport::socket_options options;
  options.linger_ms = 0;
  options.queue_until_connected = true;  // the first prediction may leave before the handshake
  if (st.deps.keys)
    options.curve = transport::curve_keys{st.deps.keys->public_key, st.deps.keys->secret_key,
                                          r.predict_public_key};
  const auto router = caf::actor_cast<caf::actor_addr>(self);
  auto loop = std::make_unique<transport::socket_loop>(
      st.context, transport::socket_loop::role::dealer_connect, r.predict_endpoint, options,
      [router, attempt_id, limits = st.deps.limits](const std::string&, const zmq::message_t& frame,
                                                    transport::clock::time_point received) {
        auto decoded = msg::decode(frame.data(), frame.size(), limits);
        auto* env = std::get_if<msg::envelope>(&decoded);
        if (!env) return;  // a replica that cannot be read is not answered (its request times out)
        // `peer`: the replica it came from.
        if (auto to = caf::actor_cast<caf::actor>(router))
          caf::anon_send(to, answer_atom::value,
                         inbound{attempt_id, std::move(*env), received, std::nullopt});
      });
  if (known != st.links.end()) {
    known->second.loop->stop();
    st.links.erase(known);
    retry_waiting_on(self, attempt_id, "it named another prediction socket");
  }
  auto& link = st.links[attempt_id];
  link = {r.predict_endpoint, r.predict_public_key, std::move(loop)};
  link.loop->start();
}

// The replica is gone: its link closes, and what waits for it is asked of another at once.
void unlink_replica(self_ptr self, const std::string& attempt_id, const std::string& why) {
  auto& st = self->state;
  st.replica_hosts.erase(attempt_id);
  if (auto link = st.links.find(attempt_id); link != st.links.end()) {
    link->second.loop->stop();
    st.links.erase(link);
  }
  retry_waiting_on(self, attempt_id, why);
}

// Why the prediction socket a replica's report names is not taken, or nullopt: it must be at the
// address its node registered with (the head connects to nothing else a node names).
std::optional<msg::error> socket_problem(self_ptr self, const msg::replica_report& r) {
  const auto host = prediction_endpoint_host(r.predict_endpoint);
  const auto shown =
      "'" + msg::printable(r.predict_endpoint.substr(0, max_prediction_endpoint_chars)) + "'";
  if (!host || !security::is_z85_key(r.predict_public_key))
    return error(
        msg::error_code::invalid_request,
        "predictEndpoint: expected tcp://HOST:PORT and the socket's Z85 public key, got " + shown);
  const auto& hosts = self->state.replica_hosts;
  if (auto it = hosts.find(r.attempt_id); it != hosts.end() && it->second != *host)
    return error(msg::error_code::permission_denied, "predictEndpoint: " + shown +
                                                         " is not at its node's address " +
                                                         msg::printable(it->second));
  return std::nullopt;
}

void on_report(self_ptr self, const inbound& in, const msg::replica_report& r) {
  std::vector<std::pair<uint32_t, std::string>> versions;
  for (const auto& v : r.versions) versions.emplace_back(v.version, v.problem);
  auto& table = self->state.table;
  if (!table.service_of(r.attempt_id) || !self->state.replica_hosts.count(r.attempt_id))
    return reply(self, in,
                 error(msg::error_code::conflict,
                       "attempt " + r.attempt_id + " has not resolved its service from this node"));
  if (auto problem = socket_problem(self, r)) return reply(self, in, std::move(*problem));
  try {
    link_replica(self, r.attempt_id, r);
  } catch (const zmq::error_t& e) {
    return reply(self, in,
                 error(msg::error_code::invalid_request, "predictEndpoint: cannot connect to " +
                                                             r.predict_endpoint + ": " + e.what()));
  }
  // Ready for what it loaded only once it can be reached.
  if (!table.reported(r.attempt_id, in.peer, versions))
    return reply(self, in,
                 error(msg::error_code::conflict,
                       "attempt " + r.attempt_id + " has not resolved its service from this node"));
  const auto* service = table.service_of(r.attempt_id);
  std::vector<msg::loaded_version> served;
  for (const auto& v : r.versions)
    if (table.serves(service->job_id, v.version)) served.push_back(v);
  self->state.deps.figures->report(r.attempt_id, service->name, in.sender->node_id, served,
                                   steady::now());
  reply(self, in, msg::inference_message{msg::replica_report_reply{}});
  reload_heard(self, r.attempt_id, false);
}

// A client's prediction, answered to it.
void on_client_predict(self_ptr self, const inbound& in, msg::predict_request r) {
  prediction_request request;
  request.service = std::move(r.service);
  request.version = r.version;
  request.tenant = in.sender->role == msg::key_role::submit ? in.sender->tenant : "";
  request.feature_count = r.feature_count;
  request.features = std::move(r.features);
  request.routing_key = std::move(r.routing_key);
  predict(self, std::move(request), [self, in](prediction_result out) {
    if (out.error) return reply(self, in, std::move(*out.error));
    reply(self, in,
          msg::inference_message{msg::predict_reply{std::move(out.model_name), out.model_version,
                                                    out.rows, out.output_count,
                                                    std::move(out.outputs)}});
  });
}

void on_inbound(self_ptr self, const inbound& in) {
  // A node answers nothing the router sends it (a resolve-now is passed on unanswered).
  if (!in.sender || std::holds_alternative<msg::error>(in.env.body)) return;
  const auto& m = std::get<msg::inference_message>(in.env.body);
  const bool from_node = in.sender->role == msg::key_role::node;
  const bool from_client =
      in.sender->role == msg::key_role::admin || in.sender->role == msg::key_role::submit;
  if (const auto* r = std::get_if<msg::resolve_service_request>(&m.body); r && from_node)
    return on_resolve(self, in, *r);
  if (const auto* r = std::get_if<msg::replica_report>(&m.body); r && from_node)
    return on_report(self, in, *r);
  if (const auto* r = std::get_if<msg::predict_request>(&m.body); r && from_client) {
    if (!r->replica.empty())
      return reply(self, in,
                   error(msg::error_code::invalid_request,
                         "replica: set only by the head, toward a replica"));
    return on_client_predict(self, in, *r);
  }
  if (const auto* r = std::get_if<msg::list_services_request>(&m.body); r && from_client) {
    const auto tenant = in.sender->role == msg::key_role::submit ? in.sender->tenant : r->tenant;
    return reply(
        self, in,
        msg::inference_message{msg::list_services_reply{self->state.table.statuses(tenant)}});
  }
  reply(self, in,
        error(msg::error_code::permission_denied, std::string("a key of role ") +
                                                      msg::to_string(in.sender->role) +
                                                      " may not send this inference request"));
}

caf::behavior router(self_ptr self, service_router_deps deps) {
  self->state.deps = std::move(deps);
  self->send(self->state.deps.jobs, actors::subscribe_atom::value,
             caf::actor_cast<caf::actor>(self));
  self->delayed_send(self, sweep_interval, actors::tick_atom::value);
  return {
      [self](const inbound& in) { on_inbound(self, in); },
      // A replica whose attempt ended takes no request from now on.
      [self](actors::ended_atom, const std::string& attempt_id) {
        reload_heard(self, attempt_id, true);
        self->state.table.ended(attempt_id);
        unlink_replica(self, attempt_id, "its attempt ended");
      },
      [self](answer_atom, const inbound& answer) { from_replica(self, answer.peer, answer.env); },
      [self](predict_atom, prediction_request& r, done_fn& done) {
        predict(self, std::move(r), std::move(done));
      },
      [self](services_atom, const std::string& tenant, services_fn& done) {
        done(self->state.table.statuses(tenant));
      },
      [self](reload_atom, const std::string& service, const std::string& tenant, reload_fn& done) {
        start_reload(self, service, tenant, std::move(done));
      },
      [self](actors::tick_atom) {
        sweep(self);
        self->delayed_send(self, sweep_interval, actors::tick_atom::value);
      },
  };
}

class actor_predictor : public predictor {
 public:
  actor_predictor(caf::actor router, std::shared_ptr<const service_access_board> access)
      : router_(std::move(router)), access_(std::move(access)) {}
  void predict(prediction_request request, done_fn done) override {
    caf::anon_send(router_, predict_atom::value, std::move(request), std::move(done));
  }
  void services(std::string tenant, services_fn done) override {
    caf::anon_send(router_, services_atom::value, std::move(tenant), std::move(done));
  }
  void reload(std::string service, std::string tenant, reload_fn done) override {
    caf::anon_send(router_, reload_atom::value, std::move(service), std::move(tenant),
                   std::move(done));
  }
  std::optional<service_access> access(const std::string& service,
                                       const std::string& tenant) const override {
    return access_->find(service, tenant);
  }

 private:
  caf::actor router_;
  std::shared_ptr<const service_access_board> access_;
};

}  // namespace

void service_access_board::publish(std::vector<std::pair<std::string, service_access>> by_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_name_ = std::move(by_name);
}

std::optional<service_access> service_access_board::find(const std::string& service,
                                                         const std::string& tenant) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, access] : by_name_)
    if (name == service && (tenant.empty() || access.tenant == tenant)) return access;
  return std::nullopt;
}

caf::actor spawn_service_router(caf::actor_system& system, service_router_deps deps) {
  return system.spawn<caf::detached>(router, std::move(deps));
}

std::unique_ptr<predictor> router_predictor(caf::actor router,
                                            std::shared_ptr<const service_access_board> access) {
  return std::make_unique<actor_predictor>(std::move(router), std::move(access));
}

}  // namespace troupe::inference
