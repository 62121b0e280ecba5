#include "actors/membership/membership_actor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/membership/node_records.hpp"
#include "actors/membership/process_stall.hpp"
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
  std::vector<caf::actor> subscribers;  // to node events
  std::unique_ptr<process_stall_clock> stall_clock;
  clock::duration forgiven{0};       // of the stall clock's total
  clock::time_point tick_due;        // when the pending tick was sent for
  clock::duration most_forgiven{0};  // of the episode of shared lateness under way, if any
};

using self_ptr = caf::stateful_actor<membership_state>*;

void publish(self_ptr self, const node_event& event) {
  for (const auto& subscriber : self->state.subscribers) self->send(subscriber, event);
}

// Logs a liveness change and publishes it.
void announce(self_ptr self, const state_change& c) {
  spdlog::info("node {} ({}) incarnation {}: {} -> {}", msg::printable(c.name),
               msg::printable(c.node_id), c.incarnation, c.from ? msg::to_string(*c.from) : "new",
               msg::to_string(c.to));
  const auto* entry = self->state.nodes->find(c.node_id);
  publish(self, {c.new_incarnation ? node_event::kind::joined : node_event::kind::state_changed, c,
                 entry ? entry->info : msg::register_node_request{},
                 entry ? entry->peer : std::string()});
}

// Publishes a stored drain flag change of `node_id`, or its removal (before it is erased).
void announce_stored(self_ptr self, const std::string& node_id, node_event::kind what) {
  const auto* entry = self->state.nodes->find(node_id);
  if (!entry) return;  // removed meanwhile: its removal is announced instead
  state_change change{entry->info.node_id, entry->info.name, entry->info.incarnation,
                      entry->reported_state(), entry->reported_state()};
  if (what != node_event::kind::removed && entry->liveness == msg::node_state::alive)
    change.from =
        what == node_event::kind::drained ? msg::node_state::alive : msg::node_state::draining;
  publish(self, {what, change, entry->info, entry->peer});
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

// Call when a registration is answered, either way: the node's silence counts from then.
void registration_answered(self_ptr self, const inbound& in) {
  const auto& request = std::get<msg::register_node_request>(in.env.body);
  self->state.nodes->registration_answered(request.node_id, request.incarnation, clock::now());
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
  if (result.change) announce(self, *result.change);
  // Admitted and acknowledged at once, its row queued (also for a repeat: its addresses or
  // resources may differ): the node must start heartbeating even while the store fails, or
  // it would be declared dead and register again with a new incarnation.
  persist(self, request.node_id);
  reply(self, in, *accepted);
  registration_answered(self, in);
}

void on_heartbeat(self_ptr self, const inbound& in, const msg::heartbeat& beat) {
  auto result = self->state.nodes->on_heartbeat(in.peer, beat, in.received);
  if (result.rejected) reply(self, in, *result.rejected);
  if (result.change) {
    announce(self, *result.change);
    persist(self, beat.node_id);
  }
}

void on_deregister(self_ptr self, const inbound& in, const msg::deregister_node& request) {
  if (auto change = self->state.nodes->on_deregister(request, in.received)) {
    announce(self, *change);
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
  store_then(self, in, to_record(*entry),
             [self, in, drained, id = entry->info.node_id, drain = request.drain] {
               reply(self, in, drained);
               announce_stored(self, id,
                               drain ? node_event::kind::drained : node_event::kind::undrained);
             });
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
  announce_stored(self, removed.node_id, node_event::kind::removed);
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
  announce(self, *change);
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

// Logs when the head starts and stops forgiving lateness that many nodes share
// (shared_lateness), with the most it forgave.
void log_shared_lateness(self_ptr self) {
  constexpr auto noticeable = std::chrono::milliseconds(100);
  auto& st = self->state;
  const auto& seen = st.nodes->last_observation();
  auto ms = [](clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  if (seen.forgiven >= noticeable && st.most_forgiven < noticeable)
    spdlog::warn(
        "many of {} nodes are late by {} ms at once: taking it for the head's own trouble, "
        "not counting it against nodes",
        seen.judged, ms(seen.shared));
  if (seen.forgiven < noticeable && st.most_forgiven >= noticeable)
    spdlog::info("heartbeats arrive in time again (up to {} ms of lateness forgiven)",
                 ms(st.most_forgiven));
  st.most_forgiven = seen.forgiven < noticeable ? clock::duration::zero()
                                                : std::max(st.most_forgiven, seen.forgiven);
}

// Judges the nodes as of the moment the check was due, not when this actor got to it: every
// heartbeat read before then is ahead of the tick in the mailbox and has been applied, so a
// backlog in front of the tick delays the verdict but never fakes a silence.
void on_tick(self_ptr self) {
  auto& st = self->state;
  const auto as_of = st.tick_due;
  // While the process did not run it could not read heartbeats: that silence is not the
  // nodes'. A busy head is no excuse.
  auto stalled = st.stall_clock->stalled(clock::now());
  if (auto stall = stalled - st.forgiven; stall > clock::duration::zero()) {
    spdlog::warn("head process stalled for {} ms; not counting it against nodes",
                 std::chrono::duration_cast<std::chrono::milliseconds>(stall).count());
    st.nodes->forgive_stall(stall, as_of);
    st.forgiven = stalled;
  }
  for (const auto& change : st.nodes->evaluate(as_of)) {
    announce(self, change);
    persist(self, change.node_id);
  }
  log_shared_lateness(self);
  // High priority, as heartbeats: queued requests must not delay the check.
  const auto period = std::chrono::milliseconds(st.deps.detector.check_interval_ms);
  st.tick_due = clock::now() + period;
  self->delayed_send<caf::message_priority::high>(self, period, actors::tick_atom::value);
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

msg::node_list_reply on_subscribe(self_ptr self, const caf::actor& subscriber) {
  self->monitor(subscriber);
  self->state.subscribers.push_back(subscriber);
  return self->state.nodes->list(clock::now());
}

void unsubscribe(self_ptr self, const caf::actor_addr& gone) {
  auto& subscribers = self->state.subscribers;
  subscribers.erase(std::remove(subscribers.begin(), subscribers.end(), gone), subscribers.end());
}

caf::behavior membership(self_ptr self, membership_deps deps) {
  auto& st = self->state;
  st.nodes =
      std::make_unique<registry>(deps.detector, deps.heartbeat_interval_ms, deps.head_node_id);
  st.started = clock::now();
  // A stall shorter than a heartbeat interval is not forgiven: it counts as node silence.
  st.stall_clock = std::make_unique<process_stall_clock>(
      std::chrono::milliseconds(20), std::chrono::milliseconds(deps.heartbeat_interval_ms));
  for (const auto& record : deps.known_nodes) {
    try {
      st.nodes->restore(from_record(record, st.nodes->fresh_history()), st.started, restore_grace);
    } catch (const std::exception& e) {
      spdlog::error("skipping a stored node: {}", e.what());
    }
  }
  deps.known_nodes.clear();
  st.deps = std::move(deps);
  st.tick_due = clock::now();
  self->send(self, actors::tick_atom::value);
  self->set_down_handler([self](const caf::down_msg& down) { unsubscribe(self, down.source); });
  return {
      [self](const inbound& in) { on_inbound(self, in); },
      [self](actors::tick_atom) { on_tick(self); },
      [self](actors::shutdown_atom) { return on_shutdown(self); },
      [self](actors::subscribe_atom, const caf::actor& subscriber) {
        return on_subscribe(self, subscriber);
      },
  };
}

}  // namespace

caf::actor spawn_membership(caf::actor_system& system, membership_deps deps) {
  return system.spawn(membership, std::move(deps));
}

}  // namespace troupe::membership
