#include "actors/training/training_service.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <chrono>
#include <unordered_map>

#include "actors/artifacts/artifact_service.hpp"
#include "actors/atoms.hpp"
#include "actors/jobs/job_service.hpp"
#include "messages/safe_text.hpp"

namespace troupe::training {
namespace {

using actors::inbound;
using actors::sender_key;
using job_service::job_view;

constexpr auto job_service_timeout = std::chrono::seconds(5);
constexpr auto metrics_read_timeout = std::chrono::seconds(5);
constexpr size_t most_entries_per_report = 256;
constexpr uint32_t most_entries_per_reply = 10'000;
constexpr uint32_t most_assembly_ms = 3'600'000;

struct service_state {
  static inline const char* name = "training_service";
  training_service_deps deps;
  std::optional<rendezvous_kv> kv;
  caf::actor metrics;  // the metrics keeper
  waiter_id next_waiter = 1;
  std::unordered_map<waiter_id, inbound> waiting;  // gets waiting for their key
  std::optional<clock::time_point> timer_due;      // the earliest tick under way
  uint64_t timer = 0;                              // that tick's number; others are stale
};

using self_ptr = caf::stateful_actor<service_state>*;

void reply(self_ptr self, const inbound& in, msg::body body) {
  self->state.deps.endpoint->send(
      in.peer, msg::reply_to(in.env, self->state.deps.self_name, std::move(body)));
}

void arm_timer(self_ptr self) {
  auto& st = self->state;
  auto due = st.kv->next_deadline();
  if (!due || (st.timer_due && *st.timer_due <= *due)) return;
  st.timer_due = due;
  auto delay = std::max(*due - clock::now(), clock::duration::zero());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(delay),
                     actors::tick_atom::value, ++st.timer);
}

void answer_waiters(self_ptr self, std::vector<answer> answers) {
  auto& st = self->state;
  for (auto& a : answers) {
    auto it = st.waiting.find(a.waiter);
    if (it == st.waiting.end()) continue;
    if (auto* value = std::get_if<std::string>(&a.result))
      reply(self, it->second, msg::training_message{msg::rendezvous_get_reply{std::move(*value)}});
    else
      reply(self, it->second, std::get<msg::error>(a.result));
    st.waiting.erase(it);
  }
}

void on_tick(self_ptr self) {
  self->state.timer_due.reset();
  answer_waiters(self, self->state.kv->take_due(clock::now()));
  arm_timer(self);
}

void on_set(self_ptr self, const inbound& in, const msg::rendezvous_set_request& r,
            const generation& g) {
  auto result = self->state.kv->set(g, r.key, r.value, clock::now());
  if (auto* e = std::get_if<msg::error>(&result)) return reply(self, in, *e);
  answer_waiters(self, std::get<std::vector<answer>>(std::move(result)));
  reply(self, in, msg::training_message{msg::rendezvous_set_reply{}});
  on_tick(self);  // the gets of rounds this one superseded
}

void on_get(self_ptr self, const inbound& in, const msg::rendezvous_get_request& r,
            const generation& g) {
  auto& st = self->state;
  const auto id = st.next_waiter++;
  auto result = st.kv->get(g, r.key, r.timeout_ms, id, clock::now());
  if (auto* e = std::get_if<msg::error>(&result)) return reply(self, in, *e);
  if (auto* value = std::get_if<std::string>(&result))
    return reply(self, in, msg::training_message{msg::rendezvous_get_reply{std::move(*value)}});
  st.waiting.emplace(id, in);
  on_tick(self);
}

void on_report(self_ptr self, const msg::metrics_report& r, const generation& g) {
  if (r.steps.size() + r.epochs.size() > most_entries_per_report) return;
  self->send(self->state.metrics, caf::put_atom::value, g.job_id, r);
}

void on_metrics(self_ptr self, const inbound& in, const msg::job_metrics_request& r,
                const job_view& v) {
  const auto& key = *in.sender;
  if (!v.known || (key.role != msg::key_role::admin && key.tenant != v.tenant))
    return reply(self, in, msg::error{msg::error_code::not_found, "jobId: no job " + r.job_id});
  const auto most = r.max_entries == 0 || r.max_entries > most_entries_per_reply
                        ? most_entries_per_reply
                        : r.max_entries;
  self->request(self->state.metrics, metrics_read_timeout, caf::get_atom::value, r.job_id, r.after,
                most)
      .then(
          [self, in, r, state = v.state](std::vector<msg::metric_entry>& entries) {
            msg::job_metrics_reply out;
            out.job_state = state;
            out.next = entries.empty() ? r.after : entries.back().seq;
            out.entries = std::move(entries);
            reply(self, in, msg::training_message{std::move(out)});
          },
          [self, in](const caf::error&) {
            reply(self, in,
                  msg::error{msg::error_code::unavailable, "the store cannot be read just now"});
          });
}

void on_assemble(self_ptr self, const inbound& in, const msg::assemble_dataset_request& r,
                 const job_view& v) {
  if (r.timeout_ms < 1 || r.timeout_ms > most_assembly_ms)
    return reply(self, in,
                 msg::error{msg::error_code::invalid_request, "timeoutMs: must be 1 to 3600000"});
  self->request(self->state.deps.artifacts, std::chrono::milliseconds(r.timeout_ms),
                actors::assemble_atom::value,
                artifact_service::dataset_assembly{v.tenant, v.job_id, r.name, r.parts})
      .then(
          [self, in](artifact_service::assembly_result& done) {
            if (auto* e = std::get_if<msg::error>(&done.outcome)) return reply(self, in, *e);
            reply(self, in,
                  msg::training_message{msg::assemble_dataset_reply{
                      std::get<msg::artifact_info>(std::move(done.outcome))}});
          },
          [self, in, name = r.name](const caf::error&) {
            reply(self, in,
                  msg::error{msg::error_code::timeout, "the head did not assemble " +
                                                           msg::printable(name) +
                                                           " within the request's timeoutMs"});
          });
}

// Does `then` with the job's generation once the job service confirmed that the sending node
// runs the attempt, in the job's current round; else answers why not. A metrics report (one-way:
// never answered) may come from an attempt that ended since: its last figures count too.
template <class F>
void for_attempt(self_ptr self, const inbound& in, const std::string& attempt_id, F then) {
  const auto node_id = in.sender->node_id;
  const bool one_way = std::holds_alternative<msg::metrics_report>(
      std::get<msg::training_message>(in.env.body).body);
  auto refuse = [self, in, one_way](msg::error e) {
    if (!one_way) reply(self, in, std::move(e));
  };
  self->request(self->state.deps.jobs, job_service_timeout, actors::attempt_atom::value, attempt_id)
      .then(
          [attempt_id, node_id, one_way, then, refuse](const job_view& v) {
            if (!v.known || v.node_id != node_id)
              return refuse({msg::error_code::permission_denied,
                             "attempt " + attempt_id + " does not run on this node"});
            if (!v.current && !one_way)
              return refuse({msg::error_code::conflict,
                             "attempt " + attempt_id + " has ended or was superseded"});
            // A registration needs the whole view; the rendezvous and metrics its generation.
            if constexpr (std::is_invocable_v<F, const job_view&>)
              then(v);
            else
              then(generation{v.job_id, v.round});
          },
          [refuse](const caf::error&) {
            refuse({msg::error_code::unavailable, "the job service did not answer"});
          });
}

void on_inbound(self_ptr self, const inbound& in) {
  if (!in.sender) return;
  const auto& m = std::get<msg::training_message>(in.env.body);
  const bool from_node = in.sender->role == msg::key_role::node;
  if (const auto* s = std::get_if<msg::rendezvous_set_request>(&m.body); s && from_node)
    return for_attempt(self, in, s->attempt_id,
                       [self, in, r = *s](const generation& g) { on_set(self, in, r, g); });
  if (const auto* g = std::get_if<msg::rendezvous_get_request>(&m.body); g && from_node)
    return for_attempt(self, in, g->attempt_id,
                       [self, in, r = *g](const generation& gen) { on_get(self, in, r, gen); });
  if (const auto* r = std::get_if<msg::metrics_report>(&m.body); r && from_node)
    return for_attempt(self, in, r->attempt_id,
                       [self, r = *r](const generation& g) { on_report(self, r, g); });
  if (const auto* r = std::get_if<msg::register_model_request>(&m.body); r && from_node)
    return for_attempt(self, in, r->attempt_id, [self, in, r = *r](const job_view& v) {
      register_model(self, self->state.deps.registration, v, r,
                     [self, in](msg::body answer) { reply(self, in, std::move(answer)); });
    });
  if (const auto* r = std::get_if<msg::assemble_dataset_request>(&m.body); r && from_node)
    return for_attempt(self, in, r->attempt_id,
                       [self, in, r = *r](const job_view& v) { on_assemble(self, in, r, v); });
  const bool from_client =
      in.sender->role == msg::key_role::admin || in.sender->role == msg::key_role::submit;
  if (const auto* q = std::get_if<msg::job_metrics_request>(&m.body); q && from_client) {
    self->request(self->state.deps.jobs, job_service_timeout, actors::job_atom::value, q->job_id)
        .then([self, in, r = *q](const job_view& v) { on_metrics(self, in, r, v); },
              [self, in](const caf::error&) {
                reply(self, in,
                      msg::error{msg::error_code::unavailable, "the job service did not answer"});
              });
    return;
  }
  if (std::holds_alternative<msg::metrics_report>(m.body)) return;  // one-way: never answered
  reply(self, in,
        msg::error{msg::error_code::invalid_request, "the head does not serve this message"});
}

caf::behavior service(self_ptr self, training_service_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.kv.emplace(st.deps.limits);
  st.metrics = spawn_metrics_keeper(self, st.deps.store, st.deps.metrics);
  return {
      [self](const inbound& in) { on_inbound(self, in); },
      [self](actors::tick_atom, uint64_t timer) {
        if (timer == self->state.timer) on_tick(self);
      },
  };
}

}  // namespace

caf::actor spawn_training_service(caf::actor_system& system, training_service_deps deps) {
  return system.spawn(service, std::move(deps));
}

}  // namespace troupe::training
