#include "actors/node_agent/node_agent.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include <algorithm>

#include "actors/atoms.hpp"
#include "cluster/host/resources.hpp"

namespace troupe::node_agent {
namespace {

using actors::inbound;
constexpr uint32_t max_register_retry_ms = 2000;

struct node_agent_state {
  static inline const char* name = "node_agent";
  node_agent_deps deps;
  std::string node_id;
  uint64_t incarnation = 0;
  bool registered = false;
  bool stopping = false;
  uint64_t sequence = 0;
  uint64_t next_request_id = 1;
  uint32_t heartbeat_interval_ms = 200;
  uint32_t retry_ms = 0;
  uint64_t register_generation = 0;          // invalidates retry timers of earlier attempts
  uint64_t first_request_of_generation = 0;  // replies to older requests are stale
};

using self_ptr = caf::stateful_actor<node_agent_state>*;

void send(self_ptr self, msg::body body) {
  msg::envelope env;
  env.request_id = self->state.next_request_id++;
  env.sender = self->state.node_id;
  env.body = std::move(body);
  self->state.deps.endpoint->send({}, env);
}

void send_register(self_ptr self) {
  auto& st = self->state;
  msg::register_node_request request;
  request.node_id = st.node_id;
  request.name = st.deps.name;
  request.incarnation = st.incarnation;
  request.addresses = st.deps.addresses;
  request.resources = st.deps.resources;
  request.labels = st.deps.labels;
  request.version = TROUPE_VERSION;
  send(self, request);
  self->delayed_send(self, std::chrono::milliseconds(st.retry_ms), actors::register_atom::value,
                     st.register_generation);
  st.retry_ms = std::min(st.retry_ms * 2, max_register_retry_ms);
}

void start_registering(self_ptr self) {
  auto& st = self->state;
  if (st.stopping) return;
  st.registered = false;
  st.retry_ms = st.deps.register_retry_ms;
  ++st.register_generation;
  st.first_request_of_generation = st.next_request_id;
  send_register(self);
}

void send_heartbeat(self_ptr self) {
  auto& st = self->state;
  msg::heartbeat beat;
  beat.node_id = st.node_id;
  beat.incarnation = st.incarnation;
  beat.sequence = ++st.sequence;
  beat.load = host::read_load();
  // Nothing is placed on nodes yet: everything offered is free.
  beat.free = {st.deps.resources.cpus, st.deps.resources.memory_mb,
               static_cast<uint32_t>(st.deps.resources.gpus.size())};
  send(self, beat);
}

void on_registered(self_ptr self, const msg::register_node_reply& reply) {
  auto& st = self->state;
  if (st.registered || st.stopping) return;  // a duplicate reply, or too late
  st.registered = true;
  ++st.register_generation;
  st.heartbeat_interval_ms = std::max<uint32_t>(reply.heartbeat_interval_ms, 10);
  spdlog::info("registered as {} ({}) incarnation {}{}", st.deps.name, st.node_id, st.incarnation,
               reply.draining ? ", draining" : "");
  self->send(self, actors::heartbt_atom::value, st.register_generation);
}

void on_rejected(self_ptr self, const msg::heartbeat_rejected& rejected) {
  auto& st = self->state;
  using reason = msg::heartbeat_reject_reason;
  switch (rejected.reason) {
    case reason::unknown_node:
      if (!st.registered) return;  // already registering
      spdlog::warn("the head does not know this node; registering again");
      break;
    case reason::declared_dead:
      if (rejected.known_incarnation != st.incarnation) return;  // about an earlier one
      try {
        st.incarnation = st.deps.data->next_incarnation();
      } catch (const host::identity_error& e) {
        spdlog::error("cannot take a new incarnation: {}; stopping", e.what());
        st.registered = false;
        st.deps.request_exit(1);
        return;
      }
      st.sequence = 0;
      spdlog::warn("the head declared this node dead; registering as incarnation {}",
                   st.incarnation);
      break;
    case reason::stale_incarnation:
      spdlog::error(
          "incarnation {} of this node id is registered, newer than ours ({}): another trouped "
          "runs with a copy of this data dir; stopping",
          rejected.known_incarnation, st.incarnation);
      st.registered = false;
      st.deps.request_exit(1);
      return;
  }
  start_registering(self);
}

void on_inbound(self_ptr self, const inbound& in) {
  if (auto* reply = std::get_if<msg::register_node_reply>(&in.env.body)) {
    // Only a reply to this round of registration counts (not one for an older incarnation).
    if (in.env.request_id >= self->state.first_request_of_generation) on_registered(self, *reply);
  } else if (auto* rejected = std::get_if<msg::heartbeat_rejected>(&in.env.body)) {
    on_rejected(self, *rejected);
  } else if (auto* err = std::get_if<msg::error>(&in.env.body)) {
    // E.g. the name is held by another live node: the pending retry timer tries again.
    spdlog::error("the head refused: {} ({})", err->message, msg::to_string(err->code));
  }
}

caf::behavior node_agent(self_ptr self, node_agent_deps deps) {
  auto& st = self->state;
  st.node_id = deps.node_id;
  st.incarnation = deps.incarnation;
  st.deps = std::move(deps);
  start_registering(self);
  return {
      [self](const inbound& in) { on_inbound(self, in); },
      [self](actors::register_atom, uint64_t generation) {
        if (!self->state.registered && generation == self->state.register_generation)
          send_register(self);
      },
      [self](actors::heartbt_atom, uint64_t generation) {
        auto& s = self->state;
        if (!s.registered || generation != s.register_generation) return;
        send_heartbeat(self);
        self->delayed_send(self, std::chrono::milliseconds(s.heartbeat_interval_ms),
                           actors::heartbt_atom::value, generation);
      },
      [self](actors::shutdown_atom) {
        auto& s = self->state;
        s.stopping = true;
        s.registered = false;
        ++s.register_generation;  // cancels pending registration and heartbeat timers
        // Also when unregistered: an accepted registration's reply may still be under way,
        // and the head ignores a deregistration it cannot match.
        send(self, msg::deregister_node{s.node_id, s.incarnation, "shutdown"});
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_node_agent(caf::actor_system& system, node_agent_deps deps) {
  return system.spawn(node_agent, std::move(deps));
}

}  // namespace troupe::node_agent
