#include "actors/inference/replica_relay.hpp"

#include <caf/all.hpp>
#include <chrono>
#include <set>
#include <unordered_map>

#include "actors/atoms.hpp"

namespace troupe::inference {
namespace {

using actors::inbound;
using steady = std::chrono::steady_clock;

constexpr auto sweep_interval = std::chrono::milliseconds(250);
constexpr auto head_wait = std::chrono::seconds(10);

struct replica_link {
  std::string peer;    // its rank link connection
  std::string key_id;  // once dropped, the replica is gone
};

// A replica's request on its way to the head.
struct to_head {
  replica_link replica;
  msg::envelope request;
  steady::time_point give_up;
};

// What the head resolved a replica's service to: its name and versions.
struct resolution {
  std::string service;
  std::set<uint32_t> versions;
};

struct relay_state {
  static inline const char* name = "replica_relay";
  replica_relay_deps deps;
  uint64_t next_id = 1;
  std::unordered_map<std::string, replica_link> replicas;  // by attempt id
  std::unordered_map<uint64_t, to_head> head_waiting;      // by the relayed request id
  std::unordered_map<std::string, resolution> resolved;    // by attempt id
};

using self_ptr = caf::stateful_actor<relay_state>*;

msg::error error(msg::error_code code, std::string why) { return {code, std::move(why)}; }

void answer_replica(self_ptr self, const to_head& w, msg::body body) {
  if (!self->state.deps.keys->attempt_of(w.replica.key_id)) return;  // its attempt ended
  self->state.deps.rank_link->send(
      w.replica.peer, msg::reply_to(w.request, self->state.deps.self_name, std::move(body)));
}

const std::string* attempt_named(const msg::inference_message& m) {
  if (const auto* r = std::get_if<msg::resolve_service_request>(&m.body)) return &r->attempt_id;
  if (const auto* r = std::get_if<msg::replica_report>(&m.body)) return &r->attempt_id;
  return nullptr;
}

// A report's figures of the versions the head resolved for its replica, on the node's /metrics.
void show_figures(self_ptr self, const msg::replica_report& report) {
  auto& st = self->state;
  auto r = st.resolved.find(report.attempt_id);
  if (r == st.resolved.end()) return;
  std::vector<msg::loaded_version> versions;
  for (const auto& v : report.versions)
    if (r->second.versions.count(v.version)) versions.push_back(v);
  st.deps.figures->report(report.attempt_id, r->second.service, "", versions, steady::now());
}

// Keeps what the head's answer to a replica's resolution named.
void note_resolution(self_ptr self, const to_head& w, const msg::body& answer) {
  const auto* m = std::get_if<msg::inference_message>(&answer);
  const auto* reply = m ? std::get_if<msg::resolve_service_reply>(&m->body) : nullptr;
  const auto attempt = self->state.deps.keys->attempt_of(w.replica.key_id);
  if (!reply || !attempt) return;
  resolution r{reply->service, {}};
  for (const auto& v : reply->versions) r.versions.insert(v.version);
  self->state.resolved[attempt->attempt_id] = std::move(r);
}

void from_replica(self_ptr self, const inbound& in) {
  auto& st = self->state;
  const auto attempt = st.deps.keys->attempt_of(in.sender->key_id);
  if (!attempt) return;  // its attempt ended since the frame left
  const auto* m = std::get_if<msg::inference_message>(&in.env.body);
  if (!m) return;  // an error: the replica asks, it answers nothing
  auto refuse = [&](msg::error e) {
    st.deps.rank_link->send(in.peer, msg::reply_to(in.env, st.deps.self_name, std::move(e)));
  };
  const auto* named = attempt_named(*m);
  if (!named)
    return refuse(error(msg::error_code::invalid_request, "a replica may not send this message"));
  if (*named != attempt->attempt_id)
    return refuse(error(msg::error_code::permission_denied,
                        "this key speaks only for attempt " + attempt->attempt_id));
  st.replicas[attempt->attempt_id] = {in.peer, in.sender->key_id};
  if (const auto* report = std::get_if<msg::replica_report>(&m->body)) show_figures(self, *report);
  msg::envelope out;
  out.request_id = relayed_replica_bits | st.next_id++;
  out.sender = st.deps.self_name;
  out.body = in.env.body;
  st.head_waiting[out.request_id] = {
      {in.peer, in.sender->key_id}, in.env, steady::now() + head_wait};
  st.deps.head->send({}, out);
}

// The head's resolve-now for one of this node's replicas (a reload): passed on, unanswered.
void resolve_now_for_head(self_ptr self, const inbound& in, const msg::resolve_service_request& r) {
  auto& st = self->state;
  auto replica = st.replicas.find(r.attempt_id);
  if (replica == st.replicas.end() || !st.deps.keys->attempt_of(replica->second.key_id)) return;
  msg::envelope out;
  out.request_id = st.next_id++;
  out.sender = st.deps.self_name;
  out.body = in.env.body;
  st.deps.rank_link->send(replica->second.peer, out);
}

void from_head(self_ptr self, const inbound& in) {
  auto& st = self->state;
  if (const auto* m = std::get_if<msg::inference_message>(&in.env.body)) {
    if (const auto* r = std::get_if<msg::resolve_service_request>(&m->body))
      return resolve_now_for_head(self, in, *r);
  }
  auto it = st.head_waiting.find(in.env.request_id);
  if (it == st.head_waiting.end()) return;  // a late answer to a request given up on
  note_resolution(self, it->second, in.env.body);
  answer_replica(self, it->second, in.env.body);
  st.head_waiting.erase(it);
}

void sweep(self_ptr self) {
  auto& st = self->state;
  const auto now = steady::now();
  for (auto it = st.head_waiting.begin(); it != st.head_waiting.end();) {
    if (it->second.give_up > now) {
      ++it;
      continue;
    }
    answer_replica(self, it->second,
                   error(msg::error_code::timeout, "the head did not answer in time"));
    it = st.head_waiting.erase(it);
  }
  for (auto it = st.replicas.begin(); it != st.replicas.end();) {
    if (st.deps.keys->attempt_of(it->second.key_id)) {
      ++it;
      continue;
    }
    st.resolved.erase(it->first);
    it = st.replicas.erase(it);
  }
  st.deps.figures->forget_silent(now);
}

caf::behavior relay(self_ptr self, replica_relay_deps deps) {
  self->state.deps = std::move(deps);
  self->delayed_send(self, sweep_interval, actors::tick_atom::value);
  return {
      [self](const inbound& in) {
        // The rank link authenticates every frame; the head's link (a DEALER) carries none.
        if (in.sender)
          from_replica(self, in);
        else
          from_head(self, in);
      },
      [self](actors::tick_atom) {
        sweep(self);
        self->delayed_send(self, sweep_interval, actors::tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_replica_relay(caf::actor_system& system, replica_relay_deps deps) {
  return system.spawn(relay, std::move(deps));
}

}  // namespace troupe::inference
