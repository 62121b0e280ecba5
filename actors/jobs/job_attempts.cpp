// The job service's attempt lifecycle (job_service.hpp): a job's state changes, its rounds
// queued, placed, started, killed and settled, and an independent task's retries. The request
// handlers and the actor itself are in job_service.cpp.
#include <spdlog/spdlog.h>
#include <algorithm>
#include <caf/all.hpp>
#include <chrono>
#include <map>
#include <set>

#include "actors/atoms.hpp"
#include "actors/jobs/job_service_state.hpp"
#include "actors/scheduler/scheduler.hpp"
#include "cluster/jobs/job_ids.hpp"
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/security/key_registry.hpp"

namespace troupe::job_service {
namespace detail {

using jobs::attempt_state;
using jobs::job_state;
using security::unix_now_ms;

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

}  // namespace detail
}  // namespace troupe::job_service
