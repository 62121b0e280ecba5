// The job service's state and the helpers its parts share (internal to actors/jobs): the
// state machine that places, starts and settles jobs (job_service.cpp) and the answers to
// questions about them (job_queries.cpp).
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/jobs/job_service.hpp"
#include "actors/jobs/task_log.hpp"
#include "actors/membership/membership_actor.hpp"
#include "actors/scheduler/scheduler.hpp"
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/store/store.hpp"

namespace troupe::job_service::detail {

using actors::inbound;
using actors::sender_key;
using steady = std::chrono::steady_clock;

struct attempt_entry {
  store::attempt_record row;
  steady::time_point placed_at;  // or recovered at
  bool holds_resources = false;  // counted by the scheduler
  bool start_sent = false;
  bool end_unstored = false;      // its node's report of how it ended is being stored
  bool killed_for_round = false;  // the head killed it because another task of its round failed
  // A standby (docs/scheduling.md): the attempt it follows on its node; and the other way.
  std::string after;
  std::string standby;
  task_log log;
  bool output_complete = false;  // the attempt ended and reported all of its output
};

// A job's attempts: a gang's are numbered by round (job_record::attempts is the latest), each
// task of a job of independent tasks counts its own (job_record::attempts is the highest).
struct job_entry {
  store::job_record row;
  jobs::job_spec spec;
  jobs::task_grouping grouping = jobs::task_grouping::gang;
  std::vector<std::vector<std::string>> tasks;  // per task index: its attempt ids, oldest first
  std::set<uint32_t> replacing;  // independent tasks whose next attempt waits (backoff, queue)
  std::vector<store::job_transition> transitions;
  bool durable = false;  // its submission is stored
  bool queued = false;   // waits in the scheduler's queue
  uint64_t order = 0;    // submission order, kept by retries
  uint16_t master_port = 0;
  std::string master_addr;
};

struct node_view {
  std::string name;
  std::string address;
  std::string peer;  // the node's connection, learned from its own messages
  msg::node_state state = msg::node_state::alive;
  bool draining = false;
  std::vector<std::string> waiting_starts;  // attempts to start once the peer is known
};

// Writes that wait for the store to recover, and what to do once they landed.
struct pending_write {
  std::vector<store::store_write> writes;
  std::function<void()> then;
  std::function<void()> on_failure;
};

struct service_state {
  static inline const char* name = "job_service";
  job_service_deps deps;
  bool ready = false;  // the node list arrived and the stored jobs were recovered
  std::unordered_map<std::string, job_entry> jobs;
  std::vector<std::string> order;  // job ids by submission
  uint64_t next_order = 1;
  std::unordered_map<std::string, attempt_entry> attempts;
  // Per node: its attempts that have not ended, so a node's report and its loss look at those
  // alone, not at every attempt ever made.
  std::unordered_map<std::string, std::set<std::string>> unended_by_node;
  std::map<std::pair<std::string, std::string>, std::string> by_client_request;
  std::unordered_map<std::string, node_view> nodes;
  scheduling::scheduler scheduler{true};
  std::vector<pending_write> retries;
  std::vector<caf::actor> attempt_watchers;  // told of every attempt that ends
};

using self_ptr = caf::stateful_actor<service_state>*;

msg::error invalid(std::string why);
void reply(self_ptr self, const inbound& in, msg::body body);
bool visible(const sender_key& key, const job_entry& job);
std::string node_name(self_ptr self, const std::string& node_id);
jobs::job_state state_of(const job_entry& job);
jobs::attempt_state state_of(const attempt_entry& a);
// The attempts of the job's latest round (one per task), or empty before its first placement;
// of a job of independent tasks, each task's latest attempt.
std::vector<attempt_entry*> current_round(self_ptr self, const job_entry& job);
// Of current_round and not ended.
bool is_current(self_ptr self, const attempt_entry& a);

// Questions of clients (job_queries.cpp).
// The job a client names, if its key may see it; else answers not_found and gives nullptr.
const job_entry* find_job(self_ptr self, const inbound& in, const std::string& id,
                          const sender_key& key);
msg::jobs_message list_jobs(self_ptr self, const msg::list_jobs_request& r, const sender_key& key);
void on_get(self_ptr self, const inbound& in, const msg::get_job_request& r, const sender_key& key);
void on_logs(self_ptr self, const inbound& in, const msg::job_logs_request& r,
             const sender_key& key);

// Questions of other head actors (job_queries.cpp).
job_view view_of_job(self_ptr self, const std::string& job_id);
job_view view_of_attempt(self_ptr self, const std::string& attempt_id);

// The store, and what the service sends its nodes (job_service.cpp).
void send_to_node(self_ptr self, const std::string& peer, msg::jobs_message m);
// Stores `writes`, retrying until they land, then calls `then`. `on_failure` (if any) is called
// the first time the store fails.
void persist(self_ptr self, std::vector<store::store_write> writes, std::function<void()> then,
             std::function<void()> on_failure = {});
// Queues `writes` that nothing waits for: they land with the next writes stored, or within
// actors::default_later_delay (the store actor retries them until they land).
void persist_later(self_ptr self, std::vector<store::store_write> writes);
// Stores `writes` together with the placements the scheduler makes now; then calls `then` and
// has the nodes start the placed rounds.
void persist_and_schedule(
    self_ptr self, std::vector<store::store_write> writes, std::function<void()> then = [] {},
    std::function<void()> on_failure = {});

// The attempt lifecycle (job_attempts.cpp): the steps that requests, the nodes' reports and the
// scheduler drive.
void schedule(self_ptr self);
// The job's state change, added to `writes` (the row and a transition).
void transition(job_entry& job, jobs::job_state to, std::string reason,
                std::vector<store::store_write>& writes);
bool gang(const job_entry& job);
jobs::task_grouping grouping_of(const jobs::job_spec& spec);
std::vector<uint32_t> gpus_of(const store::attempt_record& a);
// Queues the job behind the `after` jobs that have not ended.
void enqueue(self_ptr self, job_entry& job, std::vector<std::string> unfinished_after);
// Ends a job; its dependants that can no longer run fail with it.
void finish_job(self_ptr self, job_entry& job, jobs::job_state to, std::string reason,
                std::vector<store::store_write>& writes);
// Queues a stored job behind those of its `after` jobs that have not ended, or fails it when one
// of them ended without succeeding.
void queue_after_dependencies(self_ptr self, job_entry& job,
                              std::vector<store::store_write>& writes);
// Once every task of the current round ended: the job succeeded, is retried, or failed.
void settle_round(self_ptr self, job_entry& job, std::vector<store::store_write>& writes);
bool retries_left(const job_entry& job, const attempt_entry& a);
// Queues an independent task alone, to replace its ended attempt.
void queue_task(self_ptr self, job_entry& job, uint32_t index);
// A job of independent tasks ends once every task has spent its retries.
void settle_independent(self_ptr self, job_entry& job, std::vector<store::store_write>& writes);
// The backoff of an independent task's retry passed: it is queued, unless the job ended or the
// task was placed since.
void retry_task(self_ptr self, const std::string& job_id, uint32_t index, uint32_t attempt);
void start_attempt(self_ptr self, attempt_entry& a);
void kill_attempt(self_ptr self, attempt_entry& a, const std::string& reason);
void end_attempt(self_ptr self, attempt_entry& a, jobs::attempt_state to,
                 const jobs::task_exit& exit, int64_t at_ms,
                 std::vector<store::store_write>& writes);
std::vector<attempt_entry*> unended_on(self_ptr self, const std::string& node_id);

// What the nodes tell the job service: tasks started, their output and ends, the tasks a node
// holds, and membership events (job_nodes.cpp).
// The node's connection on the head's socket, as its messages or its registration came from;
// the starts that waited for it leave now.
void learn_peer(self_ptr self, const std::string& node_id, const std::string& peer);
void on_started(self_ptr self, const msg::task_started& r, const sender_key& key);
void on_output(self_ptr self, const msg::task_output& r, const sender_key& key);
void on_finished(self_ptr self, const inbound& in, const msg::task_finished& r,
                 const sender_key& key);
void on_node_tasks(self_ptr self, const inbound& in, const msg::node_tasks& r,
                   const sender_key& key);
scheduling::node_capacity capacity_of(const msg::register_node_request& info, bool schedulable);
void on_node_event(self_ptr self, const membership::node_event& e);

}  // namespace troupe::job_service::detail
