#include "actors/training/rank_relay.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <chrono>
#include <unordered_map>

#include "actors/atoms.hpp"

namespace troupe::training {
namespace {

using actors::inbound;
using steady = std::chrono::steady_clock;

constexpr uint64_t relayed_bit = uint64_t{1} << 63;
constexpr auto sweep_interval = std::chrono::seconds(1);
constexpr auto get_slack = std::chrono::seconds(5);
constexpr auto set_wait = std::chrono::seconds(30);

// A rank's request on its way to the head.
struct relayed {
  std::string rank_peer;
  msg::envelope request;  // as the rank sent it
  steady::time_point give_up;
};

struct relay_state {
  static inline const char* name = "rank_relay";
  rank_relay_deps deps;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, relayed> waiting;  // by the relayed request id
};

using self_ptr = caf::stateful_actor<relay_state>*;

void answer_rank(self_ptr self, const relayed& r, msg::body body) {
  self->state.deps.rank_link->send(
      r.rank_peer, msg::reply_to(r.request, self->state.deps.self_name, std::move(body)));
}

const std::string* attempt_named(const msg::training_message& m) {
  if (auto* s = std::get_if<msg::rendezvous_set_request>(&m.body)) return &s->attempt_id;
  if (auto* g = std::get_if<msg::rendezvous_get_request>(&m.body)) return &g->attempt_id;
  if (auto* r = std::get_if<msg::metrics_report>(&m.body)) return &r->attempt_id;
  return nullptr;
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
  if (*named != *attempt)
    return refuse(
        {msg::error_code::permission_denied, "this key speaks only for attempt " + *attempt});
  msg::envelope out;
  out.sender = st.deps.self_name;
  out.body = in.env.body;
  if (const auto* get = std::get_if<msg::rendezvous_get_request>(&m.body)) {
    out.request_id = relayed_bit | st.next_id++;
    st.waiting[out.request_id] = {
        in.peer, in.env, steady::now() + std::chrono::milliseconds(get->timeout_ms) + get_slack};
  } else if (std::holds_alternative<msg::rendezvous_set_request>(m.body)) {
    out.request_id = relayed_bit | st.next_id++;
    st.waiting[out.request_id] = {in.peer, in.env, steady::now() + set_wait};
  }
  st.deps.head->send({}, out);
}

void from_head(self_ptr self, const inbound& in) {
  auto& st = self->state;
  auto it = st.waiting.find(in.env.request_id);
  if (it == st.waiting.end()) {
    if (std::holds_alternative<msg::error>(in.env.body)) caf::anon_send(st.deps.agent, in);
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
    answer_rank(self, it->second,
                msg::error{msg::error_code::timeout, "the head did not answer in time"});
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
