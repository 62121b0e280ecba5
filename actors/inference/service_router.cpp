#include "actors/inference/service_router.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <chrono>
#include <map>
#include <set>

#include "actors/atoms.hpp"
#include "actors/inference/service_router_state.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::function<void(std::vector<troupe::inference::service_status>)>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::function<void(std::optional<troupe::msg::error>)>)

namespace troupe::inference {
namespace router_detail {

msg::error error(msg::error_code code, std::string why) { return {code, std::move(why)}; }

void reply(self_ptr self, const inbound& in, msg::body body) {
  self->state.deps.endpoint->send(
      in.peer, msg::reply_to(in.env, self->state.deps.self_name, std::move(body)));
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
  const auto replicas =
      with_table(self, [&](service_table& table) { return table.replicas_of(service, tenant); });
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
        for (const auto& p :
             with_table(self, [&](service_table& table) { return table.problems_of(attempt_id); }))
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
  st.deps.desk->sweep(now);
  std::vector<std::string> dropped;
  auto accesses = with_table(self, [&](service_table& table) {
    table.drop_silent(now);
    for (const auto& [attempt_id, host] : st.replica_hosts)
      if (!table.service_of(attempt_id)) dropped.push_back(attempt_id);
    return table.accesses();
  });
  for (const auto& attempt_id : dropped) unlink_replica(self, attempt_id, "it went silent");
  st.deps.access->publish(std::move(accesses));
  st.deps.figures->forget_silent(now);
}

// A client's prediction, answered to it by the desk (on a link's thread).
void on_client_predict(self_ptr self, const inbound& in, msg::predict_request r) {
  prediction_request request;
  request.service = std::move(r.service);
  request.version = r.version;
  request.tenant = in.sender->role == msg::key_role::submit ? in.sender->tenant : "";
  request.feature_count = r.feature_count;
  request.features = std::move(r.features);
  request.routing_key = std::move(r.routing_key);
  const auto& deps = self->state.deps;
  deps.desk->predict(std::move(request), [endpoint = deps.endpoint, self_name = deps.self_name,
                                          in](prediction_result out) {
    auto answer = [&](msg::body body) {
      endpoint->send(in.peer, msg::reply_to(in.env, self_name, std::move(body)));
    };
    if (out.error) return answer(std::move(*out.error));
    answer(msg::inference_message{msg::predict_reply{std::move(out.model_name), out.model_version,
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
    return reply(self, in,
                 msg::inference_message{msg::list_services_reply{with_table(
                     self, [&](service_table& table) { return table.statuses(tenant); })}});
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
        with_table(self, [&](service_table& table) { table.ended(attempt_id); });
        unlink_replica(self, attempt_id, "its attempt ended");
      },
      [self](services_atom, const std::string& tenant, services_fn& done) {
        done(with_table(self, [&](service_table& table) { return table.statuses(tenant); }));
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
  actor_predictor(caf::actor router, std::shared_ptr<prediction_desk> desk,
                  std::shared_ptr<const service_access_board> access)
      : router_(std::move(router)), desk_(std::move(desk)), access_(std::move(access)) {}
  void predict(prediction_request request, prediction_desk::done_fn done) override {
    desk_->predict(std::move(request), std::move(done));
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
  std::shared_ptr<prediction_desk> desk_;
  std::shared_ptr<const service_access_board> access_;
};

}  // namespace router_detail

using namespace router_detail;

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
                                            std::shared_ptr<prediction_desk> desk,
                                            std::shared_ptr<const service_access_board> access) {
  return std::make_unique<actor_predictor>(std::move(router), std::move(desk), std::move(access));
}

}  // namespace troupe::inference
