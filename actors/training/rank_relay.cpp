#include "actors/training/rank_relay.hpp"

#include <caf/all.hpp>
#include <chrono>
#include <unordered_map>

#include "actors/atoms.hpp"
#include "actors/inference/replica_relay.hpp"
#include "actors/training/rank_artifacts.hpp"

namespace troupe::training {
namespace {

using actors::inbound;
using steady = std::chrono::steady_clock;

constexpr uint64_t relayed_bit = uint64_t{1} << 63;
constexpr auto sweep_interval = std::chrono::seconds(1);
constexpr auto get_slack = std::chrono::seconds(5);
constexpr auto set_wait = std::chrono::seconds(30);
constexpr size_t most_transfers = 16;  // waiting for the artifact worker or under way
constexpr uint32_t most_transfer_ms = 3'600'000;

// A rank's request on its way to the head or the artifact worker.
struct relayed {
  std::string rank_peer;
  std::string key_id;     // the rank's: once it is dropped, nobody waits for the answer
  msg::envelope request;  // as the rank sent it
  steady::time_point give_up;
};

struct relay_state {
  static inline const char* name = "rank_relay";
  rank_relay_deps deps;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, relayed> waiting;  // by the relayed request id
  size_t transfers = 0;                           // with the artifact worker
};

using self_ptr = caf::stateful_actor<relay_state>*;

void answer_rank(self_ptr self, const relayed& r, msg::body body) {
  if (!self->state.deps.keys->attempt_of(r.key_id)) return;  // its attempt ended
  self->state.deps.rank_link->send(
      r.rank_peer, msg::reply_to(r.request, self->state.deps.self_name, std::move(body)));
}

const std::string* attempt_named(const msg::training_message& m) {
  const std::string* named = nullptr;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, msg::rendezvous_set_request> ||
                      std::is_same_v<T, msg::rendezvous_get_request> ||
                      std::is_same_v<T, msg::metrics_report> ||
                      std::is_same_v<T, msg::fetch_artifact_request> ||
                      std::is_same_v<T, msg::publish_artifact_request> ||
                      std::is_same_v<T, msg::register_model_request> ||
                      std::is_same_v<T, msg::assemble_dataset_request>)
          named = &v.attempt_id;
      },
      m.body);
  return named;
}

// The timeoutMs of a fetch or publish; nullopt for any other kind.
std::optional<uint32_t> transfer_timeout(const msg::training_message& m) {
  if (auto* f = std::get_if<msg::fetch_artifact_request>(&m.body)) return f->timeout_ms;
  if (auto* p = std::get_if<msg::publish_artifact_request>(&m.body)) return p->timeout_ms;
  return std::nullopt;
}

// Hands a fetch or publish to the artifact worker; its answer goes to the rank unless the
// request timed out or its attempt ended meanwhile.
std::optional<msg::error> start_transfer(self_ptr self, const inbound& in,
                                         const security::rank_attempt& attempt,
                                         uint32_t timeout_ms) {
  auto& st = self->state;
  if (timeout_ms < 1 || timeout_ms > most_transfer_ms)
    return msg::error{msg::error_code::invalid_request, "timeoutMs: must be 1 to 3600000"};
  if (st.transfers >= most_transfers)
    return msg::error{msg::error_code::overloaded,
                      "the node has " + std::to_string(st.transfers) +
                          " artifact transfers under way or waiting; try again later"};
  const auto id = relayed_bit | st.next_id++;
  const auto give_up = steady::now() + std::chrono::milliseconds(timeout_ms);
  st.waiting[id] = {in.peer, in.sender->key_id, in.env, give_up};
  ++st.transfers;
  const auto& request = std::get<msg::training_message>(in.env.body);
  self->request(st.deps.artifacts, caf::infinite,
                rank_transfer{attempt, in.sender->key_id, request, give_up})
      .then([self, id](transfer_done& done) {
        auto& state = self->state;
        --state.transfers;
        auto it = state.waiting.find(id);
        if (it == state.waiting.end()) return;  // answered `timeout` already
        answer_rank(self, it->second, std::move(done.answer));
        state.waiting.erase(it);
      });
  return std::nullopt;
}

void from_rank(self_ptr self, const inbound& in) {
  auto& st = self->state;
  const auto& m = std::get<msg::training_message>(in.env.body);
  const auto attempt = st.deps.keys->attempt_of(in.sender->key_id);
  if (!attempt) return;  // its attempt ended since the frame left
  const auto* named = attempt_named(m);
  auto refuse = [&](msg::error e) {
    if (std::holds_alternative<msg::metrics_report>(m.body)) return;  // one-way: no answer
    st.deps.rank_link->send(in.peer, msg::reply_to(in.env, st.deps.self_name, std::move(e)));
  };
  if (!named) return refuse({msg::error_code::invalid_request, "a rank may not send this message"});
  if (*named != attempt->attempt_id)
    return refuse({msg::error_code::permission_denied,
                   "this key speaks only for attempt " + attempt->attempt_id});
  if (const auto timeout_ms = transfer_timeout(m)) {
    if (auto e = start_transfer(self, in, *attempt, *timeout_ms)) refuse(std::move(*e));
    return;
  }
  msg::envelope out;
  out.sender = st.deps.self_name;
  out.body = in.env.body;
  if (const auto* get = std::get_if<msg::rendezvous_get_request>(&m.body)) {
    out.request_id = relayed_bit | st.next_id++;
    st.waiting[out.request_id] = {
        in.peer, in.sender->key_id, in.env,
        steady::now() + std::chrono::milliseconds(get->timeout_ms) + get_slack};
  } else if (std::holds_alternative<msg::rendezvous_set_request>(m.body) ||
             std::holds_alternative<msg::register_model_request>(m.body)) {
    out.request_id = relayed_bit | st.next_id++;
    st.waiting[out.request_id] = {in.peer, in.sender->key_id, in.env, steady::now() + set_wait};
  } else if (const auto* assemble = std::get_if<msg::assemble_dataset_request>(&m.body)) {
    out.request_id = relayed_bit | st.next_id++;
    st.waiting[out.request_id] = {
        in.peer, in.sender->key_id, in.env,
        steady::now() + std::chrono::milliseconds(assemble->timeout_ms) + get_slack};
  }
  st.deps.head->send({}, out);
}

void from_head(self_ptr self, const inbound& in) {
  auto& st = self->state;
  auto it = st.waiting.find(in.env.request_id);
  if (it == st.waiting.end()) {
    const bool to_replicas =
        (in.env.request_id & inference::relayed_replica_bits) == inference::relayed_replica_bits;
    if (std::holds_alternative<msg::error>(in.env.body))
      caf::anon_send(to_replicas ? st.deps.replicas : st.deps.agent, in);
    return;  // a late answer to a request given up on
  }
  answer_rank(self, it->second, in.env.body);
  st.waiting.erase(it);
}

void sweep(self_ptr self) {
  auto& st = self->state;
  const auto now = steady::now();
  for (auto it = st.waiting.begin(); it != st.waiting.end();) {
    if (it->second.give_up > now) {
      ++it;
      continue;
    }
    const bool transfer =
        transfer_timeout(std::get<msg::training_message>(it->second.request.body)).has_value();
    answer_rank(self, it->second,
                msg::error{msg::error_code::timeout, transfer ? "the transfer did not end in time"
                                                              : "the head did not answer in time"});
    it = st.waiting.erase(it);
  }
}

caf::behavior relay(self_ptr self, rank_relay_deps deps) {
  self->state.deps = std::move(deps);
  self->delayed_send(self, sweep_interval, actors::tick_atom::value);
  return {
      [self](const inbound& in) {
        // The rank link authenticates every frame; the head's link (a DEALER) carries none.
        if (in.sender)
          from_rank(self, in);
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

caf::actor spawn_rank_relay(caf::actor_system& system, rank_relay_deps deps) {
  return system.spawn(relay, std::move(deps));
}

}  // namespace troupe::training
