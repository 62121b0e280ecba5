// What the nodes tell the job service (internal to actors/jobs): a task started, its output, how
// it ended, the tasks a node holds (an attempt it should not run is killed there: fencing), and
// the membership events that make a node's tasks lost.
#include <spdlog/spdlog.h>
#include <algorithm>
#include <chrono>

#include "actors/jobs/job_service_state.hpp"
#include "actors/membership/membership_actor.hpp"
#include "cluster/jobs/job_ids.hpp"
#include "cluster/security/key_registry.hpp"
#include "messages/safe_text.hpp"

namespace troupe::job_service::detail {

using jobs::attempt_state;
using jobs::job_state;
using security::unix_now_ms;

// A node that reports its tasks without an attempt placed on it at least this long ago does
// not have it (its start was lost, or the node restarted): the attempt is lost.
constexpr auto missing_grace = std::chrono::seconds(3);

// The attempt a node key reports on, if it was placed on that node.
attempt_entry* reported(self_ptr self, const std::string& attempt_id, const sender_key& key) {
  auto it = self->state.attempts.find(attempt_id);
  if (it == self->state.attempts.end() || it->second.row.node_id != key.node_id) return nullptr;
  return &it->second;
}

void learn_peer(self_ptr self, const std::string& node_id, const std::string& peer) {
  auto& node = self->state.nodes[node_id];
  if (peer.empty() || node.peer == peer) return;
  node.peer = peer;
  auto waiting = std::move(node.waiting_starts);
  for (const auto& id : waiting) {
    auto a = self->state.attempts.find(id);
    if (a != self->state.attempts.end()) start_attempt(self, a->second);
  }
}

void on_started(self_ptr self, const msg::task_started& r, const sender_key& key) {
  auto* a = reported(self, r.attempt_id, key);
  if (!a) return;
  if (!is_current(self, *a)) return kill_attempt(self, *a, "superseded");
  auto& job = self->state.jobs.at(a->row.job_id);
  if (jobs::is_final(state_of(job))) return kill_attempt(self, *a, "cancelled");
  std::vector<store::store_write> writes;
  a->row.state = std::string(jobs::to_string(attempt_state::running));
  a->row.started_at_ms = r.started_at_ms;
  a->row.master_port = r.master_port;
  writes.emplace_back(a->row);
  if (state_of(job) == job_state::scheduled)
    transition(job, job_state::running, "started on " + node_name(self, key.node_id), writes);
  if (a->row.task_index == 0 && gang(job)) {
    job.master_port = r.master_port;
    for (auto* other : current_round(self, job))
      if (other->row.task_index != 0) start_attempt(self, *other);
  }
  // Nothing waits for it: a head that restarts without it learns from the node that the
  // attempt runs (on_node_tasks).
  persist_later(self, std::move(writes));
}

void on_output(self_ptr self, const msg::task_output& r, const sender_key& key) {
  if (auto* a = reported(self, r.attempt_id, key)) a->log.append(r.stream, r.offset, r.data);
}

attempt_state outcome(const jobs::task_exit& exit) {
  if (exit.succeeded()) return attempt_state::succeeded;
  if (exit.reason == "cancelled") return attempt_state::cancelled;
  return attempt_state::failed;
}

void on_finished(self_ptr self, const inbound& in, const msg::task_finished& r,
                 const sender_key& key) {
  // Acknowledged only once the end is stored: the node forgets an acknowledged end, and a head
  // that restarted without it would take the attempt for lost and run the task again.
  const auto acknowledge = [self, peer = in.peer, id = r.attempt_id] {
    send_to_node(self, peer, msg::jobs_message{msg::task_finished_ack{id}});
  };
  auto* a = reported(self, r.attempt_id, key);
  if (!a) return acknowledge();
  a->output_complete = a->log.has_all(r.stdout_bytes, r.stderr_bytes);
  if (a->end_unstored) return;  // resent while the first report is stored: acknowledged then
  if (!is_current(self, *a)) return acknowledge();  // a superseded attempt: changes nothing
  std::vector<store::store_write> writes;
  end_attempt(self, *a, outcome(r.exit), r.exit, r.finished_at_ms, writes);
  a->end_unstored = true;
  persist_and_schedule(self, std::move(writes), [self, id = r.attempt_id, acknowledge] {
    self->state.attempts.at(id).end_unstored = false;
    acknowledge();
  });
}

// An attempt a node says it runs or keeps as a standby: adopted when it still counts (never
// started twice), else killed there (fencing).
attempt_entry* adopted(self_ptr self, const inbound& in, const std::string& id,
                       const sender_key& key) {
  auto* a = reported(self, id, key);
  if (!a || !is_current(self, *a) || jobs::is_final(state_of(self->state.jobs.at(a->row.job_id)))) {
    send_to_node(self, in.peer, msg::jobs_message{msg::kill_task_request{id, "superseded"}});
    return nullptr;
  }
  a->start_sent = true;
  return a;
}

void on_node_tasks(self_ptr self, const inbound& in, const msg::node_tasks& r,
                   const sender_key& key) {
  for (const auto& f : r.finished) on_finished(self, in, f, key);
  for (const auto& id : r.waiting) adopted(self, in, id, key);
  std::vector<store::store_write> writes;
  const auto holds = [&](const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  for (const auto& id : r.running) {
    auto* a = adopted(self, in, id, key);
    if (a && state_of(*a) == attempt_state::scheduled) {
      a->row.state = std::string(jobs::to_string(attempt_state::running));
      a->row.started_at_ms = unix_now_ms();
      writes.emplace_back(a->row);
      auto& job = self->state.jobs.at(a->row.job_id);
      if (state_of(job) == job_state::scheduled)
        transition(job, job_state::running, "running on " + node_name(self, key.node_id), writes);
    }
  }
  // Attempts placed on this node long enough ago that it does not have.
  const auto now = steady::now();
  for (auto* found : unended_on(self, key.node_id)) {
    auto& a = *found;
    const auto& id = a.row.attempt_id;
    if (!is_current(self, a) || now - a.placed_at < missing_grace) continue;
    if (holds(r.running, id) || holds(r.waiting, id)) continue;
    const bool reported_finished = std::any_of(r.finished.begin(), r.finished.end(),
                                               [&](const auto& f) { return f.attempt_id == id; });
    if (reported_finished) continue;
    end_attempt(self, a, attempt_state::lost,
                {std::nullopt, std::nullopt, "the node does not run it"}, unix_now_ms(), writes);
  }
  if (!writes.empty()) persist_and_schedule(self, std::move(writes));
}

scheduling::node_capacity capacity_of(const msg::register_node_request& info, bool schedulable) {
  scheduling::node_capacity c;
  c.node_id = info.node_id;
  c.cpus = info.resources.cpus;
  c.memory_mb = info.resources.memory_mb;
  for (const auto& g : info.resources.gpus) c.gpus.push_back(g.index);
  for (const auto& [k, v] : info.labels) c.labels[k] = v;
  c.schedulable = schedulable;
  return c;
}

// Every attempt still running on a node that is gone is lost.
void lose_node_tasks(self_ptr self, const std::string& node_id, const std::string& why) {
  std::vector<store::store_write> writes;
  for (auto* a : unended_on(self, node_id))
    if (is_current(self, *a))
      end_attempt(self, *a, attempt_state::lost, {std::nullopt, std::nullopt, why}, unix_now_ms(),
                  writes);
  if (!writes.empty()) persist_and_schedule(self, std::move(writes));
}

void on_node_event(self_ptr self, const membership::node_event& e) {
  auto& st = self->state;
  using kind = membership::node_event::kind;
  auto& node = st.nodes[e.change.node_id];
  node.name = e.change.name;
  if (!e.node.addresses.empty()) node.address = e.node.addresses.front();
  if (e.what == kind::drained) node.draining = true;
  if (e.what == kind::undrained) node.draining = false;
  if (e.what == kind::joined || e.what == kind::state_changed) node.state = e.change.to;
  if (e.what == kind::joined) node.draining = e.change.to == msg::node_state::draining;
  const bool gone = e.change.to == msg::node_state::dead || e.change.to == msg::node_state::left;
  if (e.what == kind::removed || gone) {
    st.scheduler.remove_node(e.change.node_id);  // also releases what its tasks held
  } else if (!e.node.node_id.empty()) {
    const bool alive = node.state == msg::node_state::alive && !node.draining;
    st.scheduler.update_node(capacity_of(e.node, alive));
  }
  if (e.change.to == msg::node_state::dead || e.change.to == msg::node_state::left ||
      (e.what == kind::joined && e.change.from))
    lose_node_tasks(self, e.change.node_id,
                    "node " + e.change.name + " " + std::string(msg::to_string(e.change.to)));
  // Known from its registration: a node that just joined gets its starts before its first
  // report of its tasks (sent every second) would have told the connection. Only then: a later
  // event may carry a connection older than the node's latest message.
  if (e.what == kind::joined && !gone) learn_peer(self, e.change.node_id, e.peer);
  schedule(self);
}

}  // namespace troupe::job_service::detail
