#include "actors/membership/membership_actor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/membership/node_records.hpp"
#include "actors/membership/registry.hpp"
#include "actors/store/store_actor.hpp"
#include "messages/safe_text.hpp"

namespace troupe::membership {
namespace {

using actors::inbound;

// After a head restart, how long known nodes have to reconnect (ZeroMQ retries at most every
// second) before their silence counts.
constexpr auto restore_grace = std::chrono::seconds(3);

// How long a change waits for the store to confirm it. The store answers first (stored, or
// failing) unless it is itself stuck: every store call is bounded by store::longest_call.
constexpr auto store_answer_timeout = store::longest_call + std::chrono::seconds(10);
static_assert(store_answer_timeout > store::longest_call);

struct membership_state {
  static inline const char* name = "membership";
  membership_deps deps;
  std::unique_ptr<registry> nodes;
  clock::time_point started;
  clock::time_point last_tick;
};

using self_ptr = caf::stateful_actor<membership_state>*;

void log_change(const state_change& c) {
  spdlog::info("node {} ({}) incarnation {}: {} -> {}", msg::printable(c.name),
               msg::printable(c.node_id), c.incarnation, c.from ? msg::to_string(*c.from) : "new",
               msg::to_string(c.to));
}

void reply(self_ptr self, const inbound& in, msg::body body) {
  self->state.deps.endpoint->send(
      in.peer, msg::reply_to(in.env, self->state.deps.self_name, std::move(body)));
}

// Queues `write` (it lands, retried until it does), then answers `in`: runs `done` once the
// write is stored, or tells the requester that the change is made and will be stored once the
// store recovers. A change is never undone: memory and the store agree once the queue drains.
template <class Done>
void store_then(self_ptr self, const inbound& in, store::store_write write, Done done) {
  self->request(self->state.deps.store, store_answer_timeout, actors::store_atom::value,
                actors::confirm_atom::value, std::move(write))
      .then(
          [self, in, done](bool stored) mutable {
            if (stored) {
              done();
              return;
            }
            reply(self, in,
                  msg::error{msg::error_code::unavailable,
                             "the store is failing: the change is made and will be stored once "
                             "the store recovers"});
          },
          [self, in](caf::error& err) {
            spdlog::error("the store did not answer: {}", self->system().render(err));
            reply(self, in,
                  msg::error{msg::error_code::timeout,
                             "the store did not answer: the change is made and will be stored "
                             "once the store recovers"});
          });
}

// Queues the node's current row; the store actor retries it until it lands.
void persist(self_ptr self, const std::string& node_id) {
  self->send(self->state.deps.store, actors::store_atom::value,
             store::store_write{to_record(*self->state.nodes->find(node_id))});
}

void on_register(self_ptr self, const inbound& in, const msg::register_node_request& request) {
  auto result = self->state.nodes->on_register(in.peer, request, in.received);
  auto* accepted = std::get_if<msg::register_node_reply>(&result.reply);
  if (!accepted) {
    spdlog::warn("refused registration of {} ({}) incarnation {}", msg::printable(request.name),
                 msg::printable(request.node_id), request.incarnation);
    std::visit([&](const auto& refusal) { reply(self, in, refusal); }, result.reply);
    return;
  }
  if (result.change) log_change(*result.change);
  // Admitted and acknowledged at once, its row queued (also for a repeat: its addresses or
  // resources may differ): the node must start heartbeating even while the store fails, or
  // it would be declared dead and register again with a new incarnation.
  persist(self, request.node_id);
  reply(self, in, *accepted);
}

void on_heartbeat(self_ptr self, const inbound& in, const msg::heartbeat& beat) {
  auto result = self->state.nodes->on_heartbeat(in.peer, beat, in.received);
  if (result.rejected) reply(self, in, *result.rejected);
  if (result.change) {
    log_change(*result.change);
    persist(self, beat.node_id);
  }
}

void on_deregister(self_ptr self, const inbound& in, const msg::deregister_node& request) {
  if (auto change = self->state.nodes->on_deregister(request, in.received)) {
    log_change(*change);
    persist(self, request.node_id);
  }
}

void on_drain(self_ptr self, const inbound& in, const msg::drain_node_request& request) {
  auto result = self->state.nodes->set_draining(request.node, request.drain);
  if (auto* err = std::get_if<msg::error>(&result)) {
    reply(self, in, *err);
    return;
  }
  const auto* entry = std::get<const node_entry*>(result);
  spdlog::info("node {} ({}) {}", msg::printable(entry->info.name),
               msg::printable(entry->info.node_id), request.drain ? "draining" : "undrained");
  // The node's status as drained now: by the time the store confirms, it may be removed.
  msg::drain_node_reply drained{self->state.nodes->status_of(*entry, clock::now())};
  store_then(self, in, to_record(*entry), [self, in, drained] { reply(self, in, drained); });
}

// Forgets a dead or left node: from memory, then from the store, then acknowledged.
void on_remove(self_ptr self, const inbound& in, const msg::remove_node_request& request) {
  auto result = self->state.nodes->removable(request.node);
  if (auto* err = std::get_if<msg::error>(&result)) {
    reply(self, in, *err);
    return;
  }
  const auto* entry = std::get<const node_entry*>(result);
  msg::remove_node_reply removed{entry->info.node_id, entry->info.name};
  self->state.nodes->erase(removed.node_id);
  spdlog::info("node {} ({}) removed", msg::printable(removed.name),
               msg::printable(removed.node_id));
  store_then(self, in, store::node_removal{removed.node_id},
             [self, in, removed] { reply(self, in, removed); });
}

// The head is stopping: its own node leaves, stored before the answer so that the head's
// process does not exit with the write still queued.
caf::result<bool> on_shutdown(self_ptr self) {
  auto& st = self->state;
  const auto* own = st.nodes->find(st.deps.head_node_id);
  if (!own || !is_live(own->liveness)) return true;
  auto change = st.nodes->on_deregister({own->info.node_id, own->info.incarnation, "head shutdown"},
                                        clock::now());
  log_change(*change);
  auto done = self->make_response_promise<bool>();
  self->request(st.deps.store, std::chrono::seconds(2), actors::store_atom::value,
                actors::confirm_atom::value, store::store_write{to_record(*own)})
      .then(
          [done](bool stored) mutable {
            if (stored)
              done.deliver(true);
            else
              done.deliver(caf::make_error(caf::sec::runtime_error, "the store is failing"));
          },
          [done](caf::error& err) mutable { done.deliver(std::move(err)); });
  return done;
}

void on_tick(self_ptr self) {
  auto& st = self->state;
  auto now = clock::now();
  auto period = std::chrono::milliseconds(st.deps.detector.check_interval_ms);
  // If this actor itself did not run for a while (the head was stopped or starved), the
  // silence it sees is its own fault, not the nodes'.
  auto stall = now - st.last_tick - period;
  if (stall > std::chrono::milliseconds(st.deps.heartbeat_interval_ms)) {
    spdlog::warn("head stalled for {} ms; not counting it against nodes",
                 std::chrono::duration_cast<std::chrono::milliseconds>(stall).count());
    st.nodes->forgive_stall(stall, now);
  }
  st.last_tick = now;
  for (const auto& change : st.nodes->evaluate(now)) {
    log_change(change);
    persist(self, change.node_id);
  }
  self->delayed_send(self, period, actors::tick_atom::value);
}

void on_status(self_ptr self, const inbound& in) {
  auto status = self->state.nodes->summary();
  status.head_version = TROUPE_VERSION;
  status.head_uptime_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - self->state.started)
          .count();
  status.malformed_messages = self->state.deps.endpoint->malformed_count();
  reply(self, in, status);
}

void on_inbound(self_ptr self, const inbound& in) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, msg::register_node_request>) {
          on_register(self, in, body);
        } else if constexpr (std::is_same_v<T, msg::heartbeat>) {
          on_heartbeat(self, in, body);
        } else if constexpr (std::is_same_v<T, msg::deregister_node>) {
          on_deregister(self, in, body);
        } else if constexpr (std::is_same_v<T, msg::cluster_status_request>) {
          on_status(self, in);
        } else if constexpr (std::is_same_v<T, msg::node_list_request>) {
          reply(self, in, self->state.nodes->list(clock::now()));
        } else if constexpr (std::is_same_v<T, msg::drain_node_request>) {
          on_drain(self, in, body);
        } else if constexpr (std::is_same_v<T, msg::remove_node_request>) {
          on_remove(self, in, body);
        }
      },
      in.env.body);
}

caf::behavior membership(self_ptr self, membership_deps deps) {
  auto& st = self->state;
  st.nodes =
      std::make_unique<registry>(deps.detector, deps.heartbeat_interval_ms, deps.head_node_id);
  st.started = st.last_tick = clock::now();
  for (const auto& record : deps.known_nodes) {
    try {
      st.nodes->restore(from_record(record, st.nodes->fresh_history()), st.started, restore_grace);
    } catch (const std::exception& e) {
      spdlog::error("skipping a stored node: {}", e.what());
    }
  }
  deps.known_nodes.clear();
  st.deps = std::move(deps);
  self->send(self, actors::tick_atom::value);
  return {
      [self](const inbound& in) { on_inbound(self, in); },
      [self](actors::tick_atom) { on_tick(self); },
      [self](actors::shutdown_atom) { return on_shutdown(self); },
  };
}

}  // namespace

caf::actor spawn_membership(caf::actor_system& system, membership_deps deps) {
  return system.spawn(membership, std::move(deps));
}

}  // namespace troupe::membership
