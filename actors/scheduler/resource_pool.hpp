// The cluster's resources as the scheduler sees them: what each node offers, which task holds
// what where, and what each tenant uses. Plain C++ (no actors, no I/O); the scheduler decides,
// the pool only counts.
//
// Invariants: a node's use is the sum of the tasks held on it, a tenant's use the sum of its
// tasks; a task (job id, task index) is held at most once, so releasing it twice returns its
// resources once; a GPU index is held by at most one task. CPUs are counted in thousandths
// (0.001 is the smallest share), so use returns to exactly zero.
//
// A standby is a task placed behind one held task (its predecessor) that holds at least the
// CPUs and memory it asks and no GPU it would need: it counts nowhere while it waits, and when
// the predecessor is released it is held in its place, on the same node (the rest of the
// predecessor's resources return). A standby may itself have a standby: behind a held task
// waits a chain of at most max_standbys, each following the one before, so that a node that
// runs short tasks finds the next one there even when the head's round trip takes longer than
// a task. Releasing a standby that waits returns nothing, as it held nothing, and the one
// behind it follows its predecessor instead; removing a node drops its chains.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cluster/jobs/job_model.hpp"

namespace troupe::scheduling {

// What a node offers. Nodes that are alive and not draining are `schedulable`; draining and
// suspect nodes are known but get no new work; dead and departed nodes are removed.
struct node_capacity {
  std::string node_id;
  double cpus = 0;
  uint64_t memory_mb = 0;
  std::vector<uint32_t> gpus;  // device indices
  std::map<std::string, std::string> labels;
  bool schedulable = true;
};

// Where one task runs and which of that node's GPUs it was given.
struct task_placement {
  std::string node_id;
  std::vector<uint32_t> gpus;  // ascending
  bool operator==(const task_placement& o) const { return node_id == o.node_id && gpus == o.gpus; }
};

// An amount of resources; signed, so that "what is left" may go below zero.
struct amount {
  int64_t milli_cpus = 0;
  int64_t memory_mb = 0;
  int64_t gpus = 0;
  amount& operator+=(const amount& o);
  amount& operator-=(const amount& o);
  bool covers(const amount& need) const;  // every component at least `need`'s
};

int64_t milli_cpus(double cpus);
amount per_task(const jobs::resource_request& r);
bool carries(const std::map<std::string, std::string>& node_labels,
             const std::map<std::string, std::string>& wanted);

struct task_key {
  std::string job_id;
  uint32_t task_index = 0;
  bool operator<(const task_key& o) const {
    return std::tie(job_id, task_index) < std::tie(o.job_id, o.task_index);
  }
};

struct pool_node {
  node_capacity capacity;
  amount total;  // from `capacity`
  amount used;   // by the tasks in `tasks`
  std::set<uint32_t> gpus_in_use;
  std::set<task_key> tasks;

  amount free() const;
  std::vector<uint32_t> free_gpus() const;  // ascending
};

struct tenant_use {
  amount used;
  size_t tasks = 0;
};

class resource_pool {
 public:
  // Adds a node or changes what it offers; the tasks held there keep their resources.
  void update_node(const node_capacity& capacity);
  // Forgets a node and releases every task held there (a later release of one is a no-op).
  void remove_node(const std::string& node_id);

  // Counts `task` as running at `where`, asking `request`. False (and nothing counted) when
  // the task is held already, the node is unknown or one of the GPUs is held by another task.
  // A task recovered after a head restart is held `recovered`: it may be a standby its node
  // has not started yet, or have one the head no longer knows, so none is placed behind it.
  bool hold(const task_key& task, const std::string& tenant, const task_placement& where,
            const jobs::resource_request& request, bool recovered = false);
  // Returns a task's resources (or drops a waiting standby); false when it held none (never
  // held, or released already). A standby behind it is held in its place.
  bool release(const task_key& task);
  // Places no standby behind `task` from now on, when it is a standby that waits.
  void close_standby(const task_key& task);

  // The last of the chain behind a task held on `node_id` (the task itself when none waits
  // behind it), when the task is not recovered, its chain is shorter than max_standbys and the
  // last one's resources cover `request` (no GPUs): of the held tasks holding the least, then
  // the smallest key; or nothing.
  std::optional<task_key> standby_slot(const std::string& node_id,
                                       const jobs::resource_request& request) const;
  // Places `task` as the standby of `predecessor` (see standby_slot); false (nothing changed)
  // when `task` is held or waits already, or `predecessor` is not such a chain's last.
  bool hold_standby(const task_key& task, const std::string& tenant, const task_key& predecessor,
                    const jobs::resource_request& request);
  size_t standbys() const { return standbys_.size(); }
  static constexpr size_t max_standbys = 2;  // waiting behind one held task

  // Why no known node (schedulable or not) could ever run `tasks` tasks of `request` at
  // once, ignoring what is in use, naming the spec field; nullopt when they could.
  std::optional<std::string> never_fits(const jobs::resource_request& request,
                                        uint32_t tasks) const;

  const std::map<std::string, pool_node>& nodes() const { return nodes_; }
  const std::map<std::string, tenant_use>& tenants() const { return tenants_; }
  // What the schedulable nodes offer in all.
  amount schedulable_total() const;

 private:
  struct holding {
    std::string tenant;
    std::string node_id;
    amount held;
    std::vector<uint32_t> gpus;
    std::optional<task_key> standby;
    bool recovered = false;
  };
  struct standby {
    std::string tenant;
    task_key predecessor;  // held, or a standby itself
    jobs::resource_request request;
    std::optional<task_key> next;  // the standby behind this one
    bool closed = false;           // being killed: none may follow it
  };
  // The standby `after` points to (a holding's or a standby's), for relinking.
  std::optional<task_key>& standby_after(const task_key& predecessor);

  void drop(std::map<task_key, holding>::iterator it);

  std::map<std::string, pool_node> nodes_;     // by node id
  std::map<task_key, holding> holdings_;       // every task that holds resources
  std::map<task_key, standby> standbys_;       // every standby that waits
  std::map<std::string, tenant_use> tenants_;  // tenants with at least one task
};

}  // namespace troupe::scheduling
