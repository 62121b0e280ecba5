#include "actors/jobs/job_service.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <caf/all.hpp>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include "actors/atoms.hpp"
#include "actors/jobs/job_service_state.hpp"
#include "actors/membership/membership_actor.hpp"
#include "actors/scheduler/scheduler.hpp"
#include "actors/store/store_actor.hpp"
#include "cluster/jobs/job_ids.hpp"
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/jobs/spec_error.hpp"
#include "cluster/security/key_registry.hpp"
#include "messages/safe_text.hpp"

namespace troupe::job_service {
namespace detail {

using jobs::attempt_state;
using jobs::job_state;

constexpr auto persist_retry = std::chrono::milliseconds(250);

using security::unix_now_ms;

msg::error invalid(std::string why) { return {msg::error_code::invalid_request, std::move(why)}; }
msg::error denied(std::string why) { return {msg::error_code::permission_denied, std::move(why)}; }

void reply(self_ptr self, const inbound& in, msg::body body) {
  self->state.deps.endpoint->send(
      in.peer, msg::reply_to(in.env, self->state.deps.self_name, std::move(body)));
}

void send_to_node(self_ptr self, const std::string& peer, msg::jobs_message m) {
  msg::envelope env;
  env.sender = self->state.deps.self_name;
  env.body = std::move(m);
  self->state.deps.endpoint->send(peer, env);
}

void persist(self_ptr self, std::vector<store::store_write> writes, std::function<void()> then,
             std::function<void()> on_failure) {
  auto retry = [self](pending_write p) {
    if (p.on_failure) std::exchange(p.on_failure, {})();
    auto& st = self->state;
    st.retries.push_back(std::move(p));
    if (st.retries.size() == 1) self->delayed_send(self, persist_retry, actors::retry_atom::value);
  };
  pending_write p{writes, std::move(then), std::move(on_failure)};
  // No timeout: the store actor answers every confirmation, false as soon as the store fails,
  // and its own calls are bounded by store::longest_call (a timeout would cost the actor clock
  // a wake-up per request).
  self->request(self->state.deps.store, caf::infinite, actors::store_atom::value,
                actors::confirm_atom::value, std::move(writes))
      .then(
          [p, retry](bool stored) mutable {
            if (stored) return p.then();
            retry(std::move(p));
          },
          [p, retry](caf::error&) mutable { retry(std::move(p)); });
}

void persist_later(self_ptr self, std::vector<store::store_write> writes) {
  self->send(self->state.deps.store, actors::store_atom::value, actors::later_atom::value,
             std::move(writes));
}

void retry_writes(self_ptr self) {
  auto retries = std::exchange(self->state.retries, {});
  for (auto& p : retries)
    persist(self, std::move(p.writes), std::move(p.then), std::move(p.on_failure));
}

bool visible(const sender_key& key, const job_entry& job) {
  return key.role == msg::key_role::admin || key.tenant == job.row.tenant;
}

std::string node_name(self_ptr self, const std::string& node_id) {
  auto it = self->state.nodes.find(node_id);
  return it == self->state.nodes.end() ? node_id : it->second.name;
}

// --- Client requests ---------------------------------------------------------------------

void on_submit(self_ptr self, const inbound& in, const msg::submit_job_request& r,
               const sender_key& key) {
  auto& st = self->state;
  jobs::job_spec spec;
  try {
    spec = jobs::parse_job_spec(r.spec);
  } catch (const jobs::spec_error& e) {
    return reply(self, in, invalid(e.what()));
  }
  // A submit key's job is its tenant's: a spec may name that tenant or leave it out.
  if (key.role == msg::key_role::submit && spec.tenant == jobs::job_spec{}.tenant)
    spec.tenant = key.tenant;
  if (key.role == msg::key_role::submit && spec.tenant != key.tenant)
    return reply(self, in, denied("tenant: this key may only submit jobs of tenant " + key.tenant));
  if (r.client_request_id.size() > 128)
    return reply(self, in, invalid("clientRequestId: at most 128 bytes"));
  if (!r.client_request_id.empty()) {
    auto known = st.by_client_request.find({spec.tenant, r.client_request_id});
    if (known != st.by_client_request.end()) {
      if (!st.jobs.at(known->second).durable)
        return reply(
            self, in,
            msg::error{msg::error_code::unavailable, "the job is not stored yet: retry later"});
      return reply(self, in, msg::jobs_message{msg::submit_job_reply{known->second, true}});
    }
  }
  if (auto why = st.scheduler.never_fits(spec.resources, spec.fewest_tasks()))
    return reply(self, in, invalid(*why));
  for (const auto& dep : spec.after) {
    auto it = st.jobs.find(dep);
    if (it == st.jobs.end() || !visible(key, it->second))
      return reply(self, in, invalid("after: no job " + dep));
  }

  job_entry job;
  job.row.job_id = jobs::new_job_id();
  job.row.tenant = spec.tenant;
  job.row.name = spec.name;
  job.row.kind = spec.kind;
  job.row.priority = spec.priority;
  job.row.client_request_id = r.client_request_id;
  job.row.spec_json = jobs::to_json(spec);
  job.row.submitted_at_ms = unix_now_ms();
  job.order = st.next_order++;
  job.spec = std::move(spec);
  job.grouping = grouping_of(job.spec);
  job.tasks.resize(job.spec.tasks);
  std::vector<store::store_write> writes;
  transition(job, job_state::pending, "submitted", writes);
  const auto id = job.row.job_id;
  if (!r.client_request_id.empty())
    st.by_client_request[{job.row.tenant, r.client_request_id}] = id;
  st.order.push_back(id);
  auto& entry = st.jobs.emplace(id, std::move(job)).first->second;
  // Queued at once: a placement made now is stored in the same transaction as the job, and
  // one made later in a later one, so no node hears of the job before it is stored.
  queue_after_dependencies(self, entry, writes);
  auto answered = std::make_shared<bool>(false);
  persist_and_schedule(
      self, std::move(writes),
      [self, in, id, answered] {
        self->state.jobs.at(id).durable = true;
        if (!*answered) reply(self, in, msg::jobs_message{msg::submit_job_reply{id, false}});
      },
      [self, in, answered, id] {
        *answered = true;
        reply(self, in,
              msg::error{msg::error_code::unavailable,
                         "the store failed; job " + id +
                             " is kept and stored once it recovers: retry "
                             "with the same client request id to see it"});
      });
}

void on_cancel(self_ptr self, const inbound& in, const msg::cancel_job_request& r,
               const sender_key& key) {
  if (!find_job(self, in, r.job_id, key)) return;
  auto& job = self->state.jobs.at(r.job_id);
  if (jobs::is_final(state_of(job)))
    return reply(self, in, msg::jobs_message{msg::cancel_job_reply{job.row.state}});
  std::vector<store::store_write> writes;
  finish_job(self, job, job_state::cancelled, "cancelled by key " + key.key_id, writes);
  for (auto* a : current_round(self, job))
    if (!jobs::is_final(state_of(*a))) kill_attempt(self, *a, "cancelled");
  persist_and_schedule(self, std::move(writes), [self, in] {
    reply(self, in, msg::jobs_message{msg::cancel_job_reply{"CANCELLED"}});
  });
}

// The attempts placed on `node_id` that have not ended (a copy: ending one changes the index).
std::vector<attempt_entry*> unended_on(self_ptr self, const std::string& node_id) {
  std::vector<attempt_entry*> out;
  auto it = self->state.unended_by_node.find(node_id);
  if (it == self->state.unended_by_node.end()) return out;
  for (const auto& id : it->second) out.push_back(&self->state.attempts.at(id));
  return out;
}

// --- Start -------------------------------------------------------------------------------

void recover(self_ptr self) {
  auto& st = self->state;
  auto& deps = st.deps;
  for (auto& row : deps.jobs) {
    job_entry job;
    try {
      job.spec = jobs::parse_job_spec(row.spec_json);
    } catch (const std::exception& e) {
      spdlog::error("job {}: its stored spec no longer parses ({}); it is kept as stored",
                    row.job_id, e.what());
      job.spec.tasks = 1;
    }
    job.row = std::move(row);
    job.durable = true;
    job.grouping = grouping_of(job.spec);
    job.tasks.resize(job.spec.tasks);
    const auto id = job.row.job_id;
    if (!job.row.client_request_id.empty())
      st.by_client_request[{job.row.tenant, job.row.client_request_id}] = id;
    st.jobs.emplace(id, std::move(job));
  }
  std::vector<std::string> by_time;
  for (auto& [id, job] : st.jobs) by_time.push_back(id);
  std::sort(by_time.begin(), by_time.end(), [&](const auto& a, const auto& b) {
    return std::tie(st.jobs.at(a).row.submitted_at_ms, a) <
           std::tie(st.jobs.at(b).row.submitted_at_ms, b);
  });
  st.order = std::move(by_time);
  for (const auto& id : st.order) st.jobs.at(id).order = st.next_order++;
  for (auto& t : deps.transitions) {
    auto it = st.jobs.find(t.job_id);
    if (it != st.jobs.end()) it->second.transitions.push_back(std::move(t));
  }
  std::sort(deps.attempts.begin(), deps.attempts.end(), [](const auto& a, const auto& b) {
    return std::tie(a.job_id, a.attempt) < std::tie(b.job_id, b.attempt);
  });
  for (auto& row : deps.attempts) {
    auto job = st.jobs.find(row.job_id);
    if (job == st.jobs.end() || row.task_index >= job->second.tasks.size()) continue;
    attempt_entry a;
    a.row = std::move(row);
    a.placed_at = steady::now();
    a.log = task_log(a.row.log_path);
    a.output_complete = jobs::is_final(state_of(a));
    job->second.tasks[a.row.task_index].push_back(a.row.attempt_id);
    if (!jobs::is_final(state_of(a))) st.unended_by_node[a.row.node_id].insert(a.row.attempt_id);
    st.attempts[a.row.attempt_id] = std::move(a);
  }
  deps.jobs.clear();
  deps.attempts.clear();
  deps.transitions.clear();

  std::vector<store::store_write> writes;
  size_t running = 0, queued_jobs = 0;
  for (const auto& id : st.order) {
    auto& job = st.jobs.at(id);
    const auto s = state_of(job);
    if (jobs::is_final(s)) continue;
    if (s == job_state::pending || s == job_state::retrying) {
      queue_after_dependencies(self, job, writes);
      queued_jobs += job.queued;
      continue;
    }
    // Scheduled or running: its tasks hold their resources until they end or are found lost.
    for (auto* a : current_round(self, job)) {
      if (jobs::is_final(state_of(*a))) continue;
      a->holds_resources = st.scheduler.hold(job.row.job_id, a->row.task_index, job.row.tenant,
                                             {a->row.node_id, gpus_of(a->row)}, job.spec.resources);
      if (!a->holds_resources) {  // its node is no longer known: it will never report
        end_attempt(self, *a, attempt_state::lost,
                    {std::nullopt, std::nullopt, "its node is no longer known"}, unix_now_ms(),
                    writes);
        continue;
      }
      a->start_sent = state_of(*a) == attempt_state::running;
      if (a->row.task_index == 0) {
        job.master_port = static_cast<uint16_t>(a->row.master_port);
        job.master_addr = st.nodes[a->row.node_id].address;
      }
      ++running;
    }
    if (gang(job)) {
      settle_round(self, job, writes);
      continue;
    }
    // The independent tasks that ended before the restart and wait for a retry: queued now.
    for (auto* a : current_round(self, job))
      if (jobs::is_final(state_of(*a)) && retries_left(job, *a) &&
          job.replacing.insert(a->row.task_index).second)
        queue_task(self, job, a->row.task_index);
    settle_independent(self, job, writes);
  }
  if (!writes.empty()) persist(self, std::move(writes), [] {});
  spdlog::info("jobs: {} stored, {} queued, {} tasks to reconcile with their nodes", st.jobs.size(),
               queued_jobs, running);
}

// --- Inbound messages, by sender role ---------------------------------------------------

template <class F>
void as_client(self_ptr self, const inbound& in, const sender_key& key, F&& f) {
  if (key.role != msg::key_role::admin && key.role != msg::key_role::submit)
    return reply(self, in, denied("only admin and submit keys may send this"));
  if (!self->state.ready)
    return reply(self, in, msg::error{msg::error_code::unavailable, "the head is starting"});
  f();
}

template <class F>
void as_node(self_ptr self, const inbound& in, const sender_key& key, F&& f) {
  if (key.role != msg::key_role::node || !self->state.ready) return;
  learn_peer(self, key.node_id, in.peer);
  f();
}

void on_inbound(self_ptr self, const inbound& in) {
  const auto& m = std::get<msg::jobs_message>(in.env.body);
  if (!in.sender) return;
  const auto& key = *in.sender;
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, msg::submit_job_request>)
          as_client(self, in, key, [&] { on_submit(self, in, r, key); });
        else if constexpr (std::is_same_v<T, msg::list_jobs_request>)
          as_client(self, in, key, [&] { reply(self, in, list_jobs(self, r, key)); });
        else if constexpr (std::is_same_v<T, msg::get_job_request>)
          as_client(self, in, key, [&] { on_get(self, in, r, key); });
        else if constexpr (std::is_same_v<T, msg::cancel_job_request>)
          as_client(self, in, key, [&] { on_cancel(self, in, r, key); });
        else if constexpr (std::is_same_v<T, msg::job_logs_request>)
          as_client(self, in, key, [&] { on_logs(self, in, r, key); });
        else if constexpr (std::is_same_v<T, msg::task_started>)
          as_node(self, in, key, [&] { on_started(self, r, key); });
        else if constexpr (std::is_same_v<T, msg::task_output>)
          as_node(self, in, key, [&] { on_output(self, r, key); });
        else if constexpr (std::is_same_v<T, msg::task_finished>)
          as_node(self, in, key, [&] { on_finished(self, in, r, key); });
        else if constexpr (std::is_same_v<T, msg::node_tasks>)
          as_node(self, in, key, [&] { on_node_tasks(self, in, r, key); });
        else
          reply(self, in, invalid("the head does not serve this message"));
      },
      m.body);
}

caf::behavior service(self_ptr self, job_service_deps deps) {
  self->state.deps = std::move(deps);
  self->request(self->state.deps.membership, caf::infinite, actors::subscribe_atom::value,
                caf::actor_cast<caf::actor>(self))
      .then([self](const msg::node_list_reply& nodes) {
        for (const auto& n : nodes.nodes) {
          auto& view = self->state.nodes[n.node_id];
          view.name = n.name;
          view.state = n.state;
          view.draining = n.draining;
          if (!n.addresses.empty()) view.address = n.addresses.front();
          msg::register_node_request info;
          info.node_id = n.node_id;
          info.resources = n.resources;
          info.labels = n.labels;
          self->state.scheduler.update_node(
              capacity_of(info, n.state == msg::node_state::alive && !n.draining));
        }
        recover(self);
        self->state.ready = true;
        schedule(self);
      });
  return {
      [self](const inbound& in) { on_inbound(self, in); },
      [self](const membership::node_event& e) { on_node_event(self, e); },
      [self](actors::attempt_atom, const std::string& id) { return view_of_attempt(self, id); },
      [self](actors::job_atom, const std::string& id) { return view_of_job(self, id); },
      [self](actors::subscribe_atom, const caf::actor& watcher) {
        self->state.attempt_watchers.push_back(watcher);
      },
      [self](actors::retry_atom) { retry_writes(self); },
      [self](actors::retry_atom, const std::string& job_id, uint32_t task, uint32_t attempt) {
        retry_task(self, job_id, task, attempt);
      },
      [self](actors::retry_atom, const std::string& job_id, uint32_t round) {
        auto it = self->state.jobs.find(job_id);
        if (it == self->state.jobs.end() || it->second.row.attempts != round ||
            state_of(it->second) != job_state::retrying)
          return;
        enqueue(self, it->second, {});
        schedule(self);
      },
  };
}

}  // namespace detail

caf::actor spawn_job_service(caf::actor_system& system, job_service_deps deps) {
  return system.spawn(detail::service, std::move(deps));
}

}  // namespace troupe::job_service
