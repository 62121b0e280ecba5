// The head's scheduling decisions: the queue of jobs waiting to start and the rules that pick
// which start where. Plain C++ (no actors, no I/O): the scheduler actor feeds it events,
// persists what schedule() returns and only then tells the nodes.
//
// The rules (docs/scheduling.md tells users the same):
// - Rank. Higher priority first. Within one priority, tenants take turns by dominant-resource
//   fair share (DRF): next comes the oldest queued job of the tenant whose dominant share is
//   lowest. A tenant's dominant share is the largest of its running tasks' CPUs / the
//   schedulable nodes' CPUs, memory / their memory, GPUs / their GPUs (a resource the cluster
//   lacks is left out). Equal shares: the older job first. Shares grow as jobs are placed
//   within one schedule().
// - Gang placement. A job starts when all its tasks can be placed at once, else none is. Each
//   task in turn goes to the schedulable node that carries every requested label, has the
//   resources free, and would be left with the least free (best fit): the fewest free GPUs,
//   then the fewest free CPUs, then the least free memory, then the smallest node id. GPUs
//   are handed out lowest index first. A task of a job of independent tasks whose attempt
//   ended is queued alone (queued_job::task), in the job's place in the queue, and placed like
//   a job of one task.
// - Elastic gangs (min_tasks). When not all its tasks can be placed, an elastic job starts on
//   as many as can, best fit as above, if that is at least min_tasks; a job that cannot start
//   even so reserves for min_tasks tasks only.
// - Reservations (backfill). A job that cannot start now reserves the resources it will
//   start on: for each task, among the nodes whose capacity not reserved by jobs ahead could
//   hold it, the one closest to fitting it (the fewest GPUs short, then CPUs, then memory,
//   then the smallest id). A job further back may only use what is free and not reserved by
//   a job ahead of it. So a big job waits for tasks to end on the nodes it reserved while
//   smaller jobs keep starting elsewhere, and is never starved by them.
// - Standbys (when the scheduler is made with them). A job of one task asking no GPU that
//   cannot start now may wait on a node behind a running task instead (resource_pool.hpp):
//   behind a task of the first node by id that carries its labels, whose capacity not reserved
//   by jobs ahead holds it, and that runs a task with fewer than resource_pool::max_standbys
//   waiting behind it, the last of them (or the task) holding at least its CPUs and memory.
//   The node starts it the moment the one it follows ends, without waiting for the head.
//   This comes before reserving, and a standby counts as a reservation for the jobs behind.
// - Dependencies. A job whose `after` jobs have not all succeeded is neither placed nor
//   reserves anything; dependency_done() releases or fails it.
//
// Every schedule() starts from the current state: reservations last for one call. A call with
// nothing changed since the last one returns at once (one that placed a standby counts as a
// change: the next may place another behind it), and a call stops early once no node has
// CPUs left for the smallest queued job.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/scheduler/resource_pool.hpp"
#include "cluster/jobs/job_model.hpp"

namespace troupe::scheduling {

struct queued_job {
  std::string job_id;
  std::string tenant;
  int32_t priority = 0;
  uint64_t order = 0;  // submit order, smaller first
  jobs::resource_request per_task;
  uint32_t tasks = 1;
  std::vector<std::string> after;  // dependencies that have not succeeded yet
  uint32_t min_tasks = 0;          // elastic: it may start on as few tasks; 0: all of them
  // One task of a job of independent tasks, queued alone to replace its ended attempt (with
  // `tasks` 1 and no `after`). Several tasks of a job may be queued at once.
  std::optional<uint32_t> task;
};

struct placement {
  std::string job_id;
  std::vector<task_placement> tasks;  // by task index; fewer than asked for an elastic job
  std::optional<task_key> after;      // a standby (one task): the task it follows
  std::optional<uint32_t> task;       // a queued task placed alone (queued_job::task)
};

struct node_usage {
  std::string node_id;
  bool schedulable = true;
  double cpus = 0, cpus_used = 0;
  uint64_t memory_mb = 0, memory_used_mb = 0;
  std::vector<uint32_t> gpus, gpus_used;
  size_t tasks = 0;
};

struct tenant_usage {
  std::string tenant;
  double cpus = 0;
  uint64_t memory_mb = 0;
  uint32_t gpus = 0;
  size_t tasks = 0;
  double dominant_share = 0;
};

struct scheduler_status {
  std::vector<node_usage> nodes;      // by node id
  std::vector<tenant_usage> tenants;  // those running tasks, by name
  size_t ready = 0;                   // queued, free to start
  size_t waiting = 0;                 // queued behind dependencies
  size_t standbys = 0;                // placed behind a running task, not started yet
};

class scheduler {
 public:
  explicit scheduler(bool standbys = false) : standbys_(standbys) {}

  // Nodes alive, draining or suspect: see node_capacity. Dead or departed: remove_node, which
  // also releases the tasks held there.
  void update_node(const node_capacity& capacity);
  void remove_node(const std::string& node_id);

  // Queues a job (also a retry of one whose attempts ended), or one task of it. False, and
  // nothing queued, when that job (or that task of it) is queued already or the job has no task.
  bool enqueue(queued_job job);
  // Takes a queued job out (cancelled), with its tasks queued alone; false when none was
  // queued. Its dependants stay: dependency_done(job_id, false) fails them.
  bool withdraw(const std::string& job_id);

  // Places every queued job that can start now, and the standbys, and reserves what they use:
  // the jobs leave the queue, their tasks hold their resources until released.
  std::vector<placement> schedule();

  // A task ended, or its node died: its resources return once (to its standby, if it has one);
  // false when it held none. A standby released before its turn returns nothing.
  bool release(const std::string& job_id, uint32_t task_index);
  // A standby being killed before its turn (cancelled, fenced) gets no standby behind it: its
  // node drops it, and one placed behind it would start there at once. No-op for other tasks.
  void close_standby(const std::string& job_id, uint32_t task_index);
  // Recovery after a head restart: a task already running (or waiting as a standby) on a
  // known node holds resources, and gets no standby. False when it is held already, the node
  // is unknown or a GPU is taken.
  bool hold(const std::string& job_id, uint32_t task_index, const std::string& tenant,
            const task_placement& where, const jobs::resource_request& request);

  // A job ended. Succeeded: its dependants no longer wait for it. Otherwise the queued jobs
  // that depended on it, directly or through others, leave the queue and are returned: they
  // must fail.
  std::vector<std::string> dependency_done(const std::string& job_id, bool succeeded);

  // See resource_pool::never_fits: drained and suspect nodes count, removed ones do not.
  std::optional<std::string> never_fits(const jobs::resource_request& request,
                                        uint32_t tasks) const;

  scheduler_status status() const;

 private:
  using queue_entry = std::pair<uint64_t, std::string>;  // (order, queue key)
  using tenant_queues = std::map<std::string, std::set<queue_entry>>;

  void make_ready(const queued_job& job);
  void leave_ready(const queued_job& job);
  void forget_dependencies(const queued_job& job);

  bool standbys_;
  resource_pool pool_;
  // Every queued job, by queue key: its id, or "<job id>/<task>" for a task queued alone.
  std::unordered_map<std::string, queued_job> jobs_;
  // Jobs free to start: by priority (highest first), tenant, then submit order.
  std::map<int32_t, tenant_queues, std::greater<int32_t>> ready_;
  std::multiset<int64_t> ready_milli_cpus_;  // per-task CPUs of the ready jobs
  // Dependency -> the queued jobs waiting for it.
  std::unordered_map<std::string, std::vector<std::string>> dependants_;
  bool changed_ = false;  // since the last schedule()
};

}  // namespace troupe::scheduling
