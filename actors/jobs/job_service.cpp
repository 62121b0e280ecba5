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

// The job's state change, added to `writes` (the row and a transition).
void transition(job_entry& job, job_state to, std::string reason,
                std::vector<store::store_write>& writes) {
  const auto now = unix_now_ms();
  store::job_transition t;
  t.job_id = job.row.job_id;
  t.seq = job.transitions.size() + 1;
  t.from_state = job.row.state;
  t.to_state = std::string(jobs::to_string(to));
  t.reason = reason;
  t.at_ms = now;
  // The store keeps every transition (`troupe job ID`); the log only what needs a look.
  const bool notable = to == job_state::failed || to == job_state::retrying;
  spdlog::log(notable ? spdlog::level::info : spdlog::level::debug, "job {} ({}): {} -> {}{}{}",
              job.row.job_id, msg::printable(job.row.name),
              t.from_state.empty() ? "new" : t.from_state, t.to_state, reason.empty() ? "" : ": ",
              msg::printable(reason));
  job.transitions.push_back(t);
  job.row.state = t.to_state;
  job.row.reason = std::move(reason);
  if (to == job_state::running && job.row.started_at_ms == 0) job.row.started_at_ms = now;
  if (jobs::is_final(to)) job.row.finished_at_ms = now;
  writes.emplace_back(job.row);
  writes.emplace_back(std::move(t));
}

job_state state_of(const job_entry& job) {
  return jobs::parse_job_state(job.row.state).value_or(job_state::failed);
}
attempt_state state_of(const attempt_entry& a) {
  return jobs::parse_attempt_state(a.row.state).value_or(attempt_state::lost);
}

bool gang(const job_entry& job) { return job.grouping == jobs::task_grouping::gang; }

// A gang's attempt counts while it is of the latest round; an independent task's while it is
// the task's latest.
bool of_current_round(const job_entry& job, const attempt_entry& a) {
  if (gang(job)) return a.row.attempt == job.row.attempts;
  const auto& task = job.tasks.at(a.row.task_index);
  return !task.empty() && task.back() == a.row.attempt_id;
}

std::vector<attempt_entry*> current_round(self_ptr self, const job_entry& job) {
  std::vector<attempt_entry*> out;
  for (const auto& task : job.tasks) {
    if (task.empty()) continue;
    auto it = self->state.attempts.find(task.back());
    if (it != self->state.attempts.end() && of_current_round(job, it->second))
      out.push_back(&it->second);
  }
  return out;
}

bool is_current(self_ptr self, const attempt_entry& a) {
  auto it = self->state.jobs.find(a.row.job_id);
  return it != self->state.jobs.end() && of_current_round(it->second, a) &&
         !jobs::is_final(state_of(a));
}

jobs::task_grouping grouping_of(const jobs::job_spec& spec) {
  const auto* kind = jobs::find_kind(spec.kind);
  return kind ? kind->grouping() : jobs::task_grouping::gang;
}

std::vector<uint32_t> gpus_of(const store::attempt_record& a) {
  return a.gpus_json.empty() ? std::vector<uint32_t>{}
                             : nlohmann::json::parse(a.gpus_json).get<std::vector<uint32_t>>();
}

scheduling::queued_job queued(const job_entry& job) {
  scheduling::queued_job q;
  q.job_id = job.row.job_id;
  q.tenant = job.row.tenant;
  q.priority = job.row.priority;
  q.order = job.order;
  q.per_task = job.spec.resources;
  q.tasks = job.spec.tasks;
  q.min_tasks = job.spec.min_tasks;
  return q;
}

void schedule(self_ptr self);
void settle_round(self_ptr self, job_entry& job, std::vector<store::store_write>& writes);
void settle_task(self_ptr self, job_entry& job, const attempt_entry& ended,
                 std::vector<store::store_write>& writes);

void enqueue(self_ptr self, job_entry& job, std::vector<std::string> unfinished_after) {
  auto q = queued(job);
  q.after = std::move(unfinished_after);
  self->state.scheduler.enqueue(std::move(q));
  job.queued = true;
}

void kill_attempt(self_ptr self, attempt_entry& a, const std::string& reason) {
  self->state.scheduler.close_standby(a.row.job_id, a.row.task_index);
  auto node = self->state.nodes.find(a.row.node_id);
  if (node == self->state.nodes.end() || node->second.peer.empty()) return;
  send_to_node(self, node->second.peer,
               msg::jobs_message{msg::kill_task_request{a.row.attempt_id, reason}});
}

// Ends a job; its dependants that can no longer run fail with it.
void finish_job(self_ptr self, job_entry& job, job_state to, std::string reason,
                std::vector<store::store_write>& writes) {
  if (job.queued || !job.replacing.empty()) self->state.scheduler.withdraw(job.row.job_id);
  job.queued = false;
  job.replacing.clear();
  transition(job, to, std::move(reason), writes);
  for (const auto& id :
       self->state.scheduler.dependency_done(job.row.job_id, to == job_state::succeeded)) {
    auto dep = self->state.jobs.find(id);
    if (dep == self->state.jobs.end() || jobs::is_final(state_of(dep->second))) continue;
    dep->second.queued = false;
    transition(dep->second, job_state::failed, "dependency " + job.row.job_id + " did not succeed",
               writes);
  }
}

// Queues a stored job behind those of its `after` jobs that have not ended, or fails it when
// one of them ended without succeeding. They are looked at now, not when it was submitted: one
// may have ended while the submission was being stored.
void queue_after_dependencies(self_ptr self, job_entry& job,
                              std::vector<store::store_write>& writes) {
  std::vector<std::string> unfinished;
  for (const auto& dep : job.spec.after) {
    auto it = self->state.jobs.find(dep);
    if (it == self->state.jobs.end()) continue;
    const auto s = state_of(it->second);
    if (!jobs::is_final(s)) {
      unfinished.push_back(dep);
    } else if (s != job_state::succeeded) {
      finish_job(self, job, job_state::failed, "dependency " + dep + " did not succeed", writes);
      return;
    }
  }
  enqueue(self, job, std::move(unfinished));
}

// The launch of one task of the job's current round.
jobs::task_launch launch_of(self_ptr self, const job_entry& job, const attempt_entry& a) {
  jobs::task_context ctx;
  ctx.job_id = job.row.job_id;
  ctx.attempt_id = a.row.attempt_id;
  ctx.task_index = a.row.task_index;
  ctx.master_addr = job.master_addr;
  ctx.master_port = job.master_port;
  const auto round = current_round(self, job);
  // Fewer than spec.tasks when elastic.
  ctx.task_count = gang(job) ? static_cast<uint32_t>(round.size()) : job.spec.tasks;
  uint32_t local_rank = 0, local_world = 0;
  for (auto* other : round) {
    if (other->row.node_id != a.row.node_id) continue;
    if (other->row.task_index < a.row.task_index) ++local_rank;
    ++local_world;
  }
  ctx.local_rank = local_rank;
  ctx.local_world_size = local_world;
  ctx.gpus = gpus_of(a.row);
  return jobs::find_kind(job.spec.kind)->launch(job.spec, ctx);
}

// A standby's start goes after the start of the attempt it follows, so that the node knows
// what to wait for.
void start_attempt(self_ptr self, attempt_entry& a) {
  auto& st = self->state;
  auto job = st.jobs.find(a.row.job_id);
  if (job == st.jobs.end() || !is_current(self, a) || a.start_sent) return;
  // A predecessor that ended before its start was sent is unknown to the node, which would
  // start this one at once: it follows what that one followed.
  std::string after = a.after;
  for (auto before = st.attempts.find(after);
       before != st.attempts.end() && !before->second.start_sent &&
       jobs::is_final(state_of(before->second));
       before = st.attempts.find(after))
    after = before->second.after;
  if (auto before = st.attempts.find(after);
      before != st.attempts.end() && !before->second.start_sent && is_current(self, before->second))
    return;
  auto& node = st.nodes[a.row.node_id];
  if (node.peer.empty()) {
    node.waiting_starts.push_back(a.row.attempt_id);
    return;
  }
  a.start_sent = true;
  send_to_node(self, node.peer,
               msg::jobs_message{msg::start_task_request{a.row.job_id, a.row.task_index,
                                                         launch_of(self, job->second, a), after}});
  auto standby = st.attempts.find(a.standby);
  if (standby != st.attempts.end()) start_attempt(self, standby->second);
}

// A gang's task 0 starts first: it picks MASTER_PORT on its node; the others start once it
// reported it. Independent tasks start at once.
void start_round(self_ptr self, job_entry& job) {
  auto round = current_round(self, job);
  for (auto* a : round)
    if (a->row.task_index == 0 || !gang(job)) start_attempt(self, *a);
}

// A round of a job placed by the scheduler, or one task's attempt placed alone, to start once
// its placement is stored.
struct placed_round {
  std::string job_id;
  uint32_t round = 0;
  std::string attempt_id;  // a task placed alone
};

// A new attempt of the job's task `index` on `where`, recorded in `writes`; `after`: the task it
// is a standby of.
attempt_entry& add_attempt(self_ptr self, job_entry& job, uint32_t index, uint32_t number,
                           const scheduling::task_placement& where,
                           const std::optional<scheduling::task_key>& after,
                           std::vector<store::store_write>& writes) {
  auto& st = self->state;
  attempt_entry a;
  a.row.attempt_id = jobs::attempt_id(job.row.job_id, index, number);
  a.row.job_id = job.row.job_id;
  a.row.task_index = index;
  a.row.attempt = number;
  a.row.node_id = where.node_id;
  a.row.state = std::string(jobs::to_string(attempt_state::scheduled));
  a.row.gpus_json = nlohmann::json(where.gpus).dump();
  a.row.log_path = st.deps.log_dir + "/" + job.row.job_id + "/" + a.row.attempt_id + ".log";
  a.log = task_log(a.row.log_path);
  a.row.scheduled_at_ms = unix_now_ms();
  a.placed_at = steady::now();
  a.holds_resources = true;
  if (after) {
    auto& before = st.attempts.at(st.jobs.at(after->job_id).tasks.at(after->task_index).back());
    a.after = before.row.attempt_id;
    before.standby = a.row.attempt_id;
  }
  writes.emplace_back(a.row);
  if (job.tasks.size() <= index) job.tasks.resize(index + 1);
  job.tasks[index].push_back(a.row.attempt_id);
  st.unended_by_node[a.row.node_id].insert(a.row.attempt_id);
  const auto id = a.row.attempt_id;
  return st.attempts[id] = std::move(a);
}

// A task of a job of independent tasks placed alone: its next attempt; the job's state stays.
placed_round place_task(self_ptr self, const scheduling::placement& p,
                        std::vector<store::store_write>& writes) {
  auto& job = self->state.jobs.at(p.job_id);
  const uint32_t index = *p.task;
  job.replacing.erase(index);
  const auto number = static_cast<uint32_t>(job.tasks.at(index).size() + 1);
  job.row.attempts = std::max(job.row.attempts, number);
  writes.emplace_back(job.row);
  const auto& a = add_attempt(self, job, index, number, p.tasks.at(0), p.after, writes);
  spdlog::info("job {} ({}): task {} placed alone on {} (attempt {})", job.row.job_id,
               msg::printable(job.row.name), index, node_name(self, a.row.node_id), number);
  return {job.row.job_id, job.row.attempts, a.row.attempt_id};
}

// Records the placement's attempts and the job's transition in `writes`.
placed_round place(self_ptr self, const scheduling::placement& p,
                   std::vector<store::store_write>& writes) {
  if (p.task) return place_task(self, p, writes);
  auto& st = self->state;
  auto& job = st.jobs.at(p.job_id);
  job.queued = false;
  job.row.attempts += 1;
  job.master_port = 0;
  job.master_addr = st.nodes[p.tasks.at(0).node_id].address;
  for (uint32_t i = 0; i < p.tasks.size(); ++i)
    add_attempt(self, job, i, job.row.attempts, p.tasks[i], p.after, writes);
  const auto& after = st.attempts.at(job.tasks[0].back()).after;
  const auto shrunk = p.tasks.size() < job.spec.tasks
                          ? ", " + std::to_string(p.tasks.size()) + " of its " +
                                std::to_string(job.spec.tasks) + " tasks (elastic)"
                          : std::string();
  transition(job, job_state::scheduled,
             "placed on " + node_name(self, p.tasks[0].node_id) + shrunk +
                 (after.empty() ? "" : ", to start when " + after + " ends"),
             writes);
  return {job.row.job_id, job.row.attempts, {}};
}

// Stores `writes` together with the placements the scheduler makes now, in one transaction (a
// finished task's report and the placement of the next job in its slot cost one commit, not
// two); then calls `then` and has the nodes start the placed rounds.
void persist_and_schedule(self_ptr self, std::vector<store::store_write> writes,
                          std::function<void()> then, std::function<void()> on_failure) {
  std::vector<placed_round> rounds;
  if (self->state.ready)
    for (const auto& p : self->state.scheduler.schedule()) rounds.push_back(place(self, p, writes));
  if (writes.empty()) return then();
  persist(
      self, std::move(writes),
      [self, rounds = std::move(rounds), then = std::move(then)] {
        then();
        for (const auto& r : rounds) {
          auto found = self->state.jobs.find(r.job_id);
          if (found == self->state.jobs.end()) continue;
          if (!r.attempt_id.empty())
            start_attempt(self, self->state.attempts.at(r.attempt_id));
          else if (found->second.row.attempts == r.round)
            start_round(self, found->second);
        }
      },
      std::move(on_failure));
}

void schedule(self_ptr self) { persist_and_schedule(self, {}); }

void release(self_ptr self, attempt_entry& a) {
  if (!a.holds_resources) return;
  a.holds_resources = false;
  self->state.scheduler.release(a.row.job_id, a.row.task_index);
}

// Records how an attempt ended. A gang's other tasks are killed when it did not succeed, and
// its round is settled once every task of it ended; an independent task is settled alone.
void end_attempt(self_ptr self, attempt_entry& a, attempt_state to, const jobs::task_exit& exit,
                 int64_t at_ms, std::vector<store::store_write>& writes) {
  a.row.state = std::string(jobs::to_string(to));
  a.row.reason = exit.reason;
  a.row.exit_code = exit.exit_code;
  a.row.signal = exit.signal;
  a.row.finished_at_ms = at_ms;
  writes.emplace_back(a.row);
  self->state.unended_by_node[a.row.node_id].erase(a.row.attempt_id);
  for (const auto& watcher : self->state.attempt_watchers)
    self->send(watcher, actors::ended_atom::value, a.row.attempt_id);
  release(self, a);
  // Its standby waited for its start to be sent, which never will be now.
  if (auto next = self->state.attempts.find(a.standby); next != self->state.attempts.end())
    start_attempt(self, next->second);
  auto job = self->state.jobs.find(a.row.job_id);
  if (job == self->state.jobs.end()) return;
  if (!gang(job->second)) return settle_task(self, job->second, a, writes);
  if (to != attempt_state::succeeded && !jobs::is_final(state_of(job->second)))
    for (auto* other : current_round(self, job->second))
      if (!jobs::is_final(state_of(*other))) {
        other->killed_for_round = true;
        kill_attempt(self, *other,
                     "task " + std::to_string(a.row.task_index) + " of the job failed");
      }
  settle_round(self, job->second, writes);
}

std::string describe(const attempt_entry& a) {
  std::string what = "task " + std::to_string(a.row.task_index) + ": ";
  if (!a.row.reason.empty()) return what + a.row.reason;
  if (a.row.signal) return what + "killed by signal " + std::to_string(*a.row.signal);
  if (a.row.exit_code) return what + "exit code " + std::to_string(*a.row.exit_code);
  return what + "ended";
}

// Once every task of the current round ended: the job succeeded, is retried, or failed. A
// round's attempts are stored together, so it is whole (an elastic job's may be smaller).
void settle_round(self_ptr self, job_entry& job, std::vector<store::store_write>& writes) {
  auto round = current_round(self, job);
  if (round.empty()) return;
  for (auto* a : round)
    if (!jobs::is_final(state_of(*a))) return;
  // Cancelled (its tasks have ended now), or decided already (a retry waits).
  if (jobs::is_final(state_of(job)) || state_of(job) == job_state::retrying) return;
  // The first to fail; one the head killed for another's failure may end in the same
  // millisecond as that one, and comes after it.
  const auto first = [](const attempt_entry* a) {
    return std::make_pair(a->killed_for_round, a->row.finished_at_ms);
  };
  const attempt_entry* failed = nullptr;
  for (auto* a : round)
    if (state_of(*a) != attempt_state::succeeded && (!failed || first(a) < first(failed)))
      failed = a;
  if (!failed) {
    job.row.exit_code = 0;
    finish_job(self, job, job_state::succeeded, "", writes);
    return;
  }
  job.row.exit_code = failed->row.exit_code;
  if (job.row.attempts <= job.spec.retries.max) {
    transition(job, job_state::retrying, describe(*failed), writes);
    const auto backoff =
        std::chrono::milliseconds(static_cast<int64_t>(job.spec.retries.backoff_s * 1000.0));
    self->delayed_send(self, backoff, actors::retry_atom::value, job.row.job_id, job.row.attempts);
    return;
  }
  finish_job(self, job, job_state::failed, describe(*failed), writes);
}

bool retries_left(const job_entry& job, const attempt_entry& a) {
  return a.row.attempt <= job.spec.retries.max;
}

// Queues an independent task alone, to replace its ended attempt.
void queue_task(self_ptr self, job_entry& job, uint32_t index) {
  auto q = queued(job);
  q.tasks = 1;
  q.min_tasks = 0;
  q.task = index;
  self->state.scheduler.enqueue(std::move(q));
}

// A job of independent tasks (replicas, which never succeed) ends once every task has spent its
// retries: it failed with the first that ended.
void settle_independent(self_ptr self, job_entry& job, std::vector<store::store_write>& writes) {
  if (jobs::is_final(state_of(job)) || !job.replacing.empty()) return;
  const attempt_entry* failed = nullptr;
  for (auto* a : current_round(self, job)) {
    if (!jobs::is_final(state_of(*a))) return;
    if (!failed || a->row.finished_at_ms < failed->row.finished_at_ms) failed = a;
  }
  if (!failed) return;  // not placed yet
  job.row.exit_code = failed->row.exit_code;
  finish_job(self, job, job_state::failed, describe(*failed), writes);
}

// An independent task's attempt ended: unless it is out of retries, the task alone is queued
// again after the job's backoff, and the other tasks run on.
void settle_task(self_ptr self, job_entry& job, const attempt_entry& ended,
                 std::vector<store::store_write>& writes) {
  if (jobs::is_final(state_of(job))) return;  // cancelled: its tasks end now
  if (retries_left(job, ended)) {
    const auto index = ended.row.task_index;
    job.replacing.insert(index);
    spdlog::info("job {} ({}): {}; the task is retried alone", job.row.job_id,
                 msg::printable(job.row.name), msg::printable(describe(ended)));
    const auto backoff =
        std::chrono::milliseconds(static_cast<int64_t>(job.spec.retries.backoff_s * 1000.0));
    self->delayed_send(self, backoff, actors::retry_atom::value, job.row.job_id, index,
                       ended.row.attempt);
    return;
  }
  settle_independent(self, job, writes);
}

// The backoff of an independent task's retry passed: it is queued, unless the job ended or the
// task was placed since.
void retry_task(self_ptr self, const std::string& job_id, uint32_t index, uint32_t attempt) {
  auto it = self->state.jobs.find(job_id);
  if (it == self->state.jobs.end() || !it->second.replacing.count(index)) return;
  auto& job = it->second;
  const auto& latest = self->state.attempts.at(job.tasks.at(index).back());
  if (latest.row.attempt != attempt) return;
  queue_task(self, job, index);
  schedule(self);
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
