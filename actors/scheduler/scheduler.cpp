#include "actors/scheduler/scheduler.hpp"

#include <algorithm>
#include <tuple>

namespace troupe::scheduling {
namespace {

double dominant_share(const amount& used, const amount& total) {
  double share = 0;
  auto part = [&](int64_t in_use, int64_t of) {
    if (of > 0) share = std::max(share, static_cast<double>(in_use) / static_cast<double>(of));
  };
  part(used.milli_cpus, total.milli_cpus);
  part(used.memory_mb, total.memory_mb);
  part(used.gpus, total.gpus);
  return share;
}

// The fewest tasks the job may start on: all of them, unless it is elastic.
uint32_t fewest_tasks(const queued_job& job) {
  return job.min_tasks == 0 ? job.tasks : std::min(job.min_tasks, job.tasks);
}

// What one pass's caches compare of a job; `tasks` the fewest it may start on.
struct shape {
  amount need;
  uint32_t tasks;
  const std::map<std::string, std::string>* labels;
};

// Shapes that failed (to start, or to reserve) in this pass. What is free and unreserved
// only shrinks during a pass, so a job at least as large, with the same labels, fails too.
// The labels point into jobs that stay queued for the whole pass (they failed).
class failed_shapes {
 public:
  bool cover(const shape& s) const {
    return std::any_of(shapes_.begin(), shapes_.end(), [&](const shape& f) {
      return s.tasks >= f.tasks && s.need.covers(f.need) && *s.labels == *f.labels;
    });
  }
  void add(const shape& s) { shapes_.push_back(s); }

 private:
  std::vector<shape> shapes_;
};

// The schedulable nodes during one schedule(): what is free for a job now (less what jobs
// ahead reserved) and what capacity no job ahead reserved.
class scheduling_pass {
 public:
  explicit scheduling_pass(const resource_pool& pool) {
    rooms_.reserve(pool.nodes().size());
    for (const auto& [id, node] : pool.nodes()) {
      if (!node.capacity.schedulable) continue;
      rooms_.push_back({&node, node.free(), node.total});
    }
  }

  // The node (as a room index) of each task if the job starts now, best fit; or null. An
  // elastic job gets as many as fit, at least its fewest. Valid until the next call.
  const std::vector<size_t>* fit(const queued_job& job) {
    return choose(job, false) ? &chosen_ : nullptr;
  }

  // Reserves, for a job that cannot start now, the nodes closest to fitting its tasks (the
  // fewest it may start on).
  bool reserve(const queued_job& job) {
    if (!choose(job, true)) return false;
    const amount need = per_task(job.per_task);
    for (size_t i : chosen_) {
      rooms_[i].free -= need;
      rooms_[i].unreserved -= need;
    }
    return true;
  }

  // The room where the job may wait as a standby: the first with its labels whose unreserved
  // capacity holds it and that runs a task it may follow; that task too.
  std::optional<std::pair<size_t, task_key>> standby(const queued_job& job,
                                                     const resource_pool& pool) const {
    if (job.tasks != 1 || job.per_task.gpus > 0) return std::nullopt;
    const amount need = per_task(job.per_task);
    for (size_t i = 0; i < rooms_.size(); ++i) {
      const room& r = rooms_[i];
      if (!r.unreserved.covers(need) || !carries(r.node->capacity.labels, job.per_task.labels))
        continue;
      if (auto behind = pool.standby_slot(r.node->capacity.node_id, job.per_task))
        return std::make_pair(i, *behind);
    }
    return std::nullopt;
  }

  void take(size_t index, const amount& need) { rooms_[index].free -= need; }
  void claim(size_t index, const amount& need) { rooms_[index].unreserved -= need; }
  const pool_node& node(size_t index) const { return *rooms_[index].node; }

  // No node has CPUs left to start or reserve a task of `smallest_milli_cpus` or more.
  bool exhausted(int64_t smallest_milli_cpus) const {
    if (smallest_milli_cpus <= 0) return false;
    return std::all_of(rooms_.begin(), rooms_.end(), [&](const room& r) {
      return r.free.milli_cpus < smallest_milli_cpus &&
             r.unreserved.milli_cpus < smallest_milli_cpus;
    });
  }

 private:
  struct room {
    const pool_node* node;
    amount free;
    amount unreserved;
  };
  using rank = std::tuple<int64_t, int64_t, int64_t>;  // (GPUs, CPUs, memory): smaller first

  static rank left_after(const amount& free, const amount& need) {
    return {free.gpus - need.gpus, free.milli_cpus - need.milli_cpus,
            free.memory_mb - need.memory_mb};
  }
  static rank short_of(const amount& free, const amount& need) {
    auto short_by = [](int64_t have, int64_t want) { return std::max<int64_t>(want - have, 0); };
    return {short_by(free.gpus, need.gpus), short_by(free.milli_cpus, need.milli_cpus),
            short_by(free.memory_mb, need.memory_mb)};
  }

  // One task at a time, among the rooms with the job's labels. Starting: of those with the
  // task's resources free, the one left with the least (best fit). Reserving: of those whose
  // unreserved capacity holds the task, the one closest to having it free. Ties go to the
  // smallest node id (rooms are in id order). Stops at the first task that finds no room: a
  // task's choice does not depend on those after it, so the tasks chosen by then are the
  // largest round that best fit places (an elastic job starts on it when it is large enough).
  bool choose(const queued_job& job, bool reserving) {
    const uint32_t fewest = fewest_tasks(job);
    const amount need = per_task(job.per_task);
    trial_ = rooms_;  // as they fill; the scratch vectors keep their memory between calls
    carries_.clear();
    for (const room& r : rooms_)
      carries_.push_back(carries(r.node->capacity.labels, job.per_task.labels));
    chosen_.clear();
    for (uint32_t task = 0; task < (reserving ? fewest : job.tasks); ++task) {
      std::optional<size_t> best;
      rank best_rank;
      for (size_t i = 0; i < trial_.size(); ++i) {
        const room& r = trial_[i];
        if (!carries_[i] || !(reserving ? r.unreserved : r.free).covers(need)) continue;
        rank k = reserving ? short_of(r.free, need) : left_after(r.free, need);
        if (!best || k < best_rank) {
          best = i;
          best_rank = k;
        }
      }
      if (!best) break;
      trial_[*best].free -= need;
      trial_[*best].unreserved -= need;
      chosen_.push_back(*best);
    }
    return chosen_.size() >= fewest;
  }

  std::vector<room> rooms_;  // by node id
  std::vector<room> trial_;
  std::vector<bool> carries_;  // the job's labels, by room
  std::vector<size_t> chosen_;
};

std::string queue_key(const queued_job& job) {
  return job.task ? job.job_id + "/" + std::to_string(*job.task) : job.job_id;
}

}  // namespace

void scheduler::update_node(const node_capacity& capacity) {
  pool_.update_node(capacity);
  changed_ = true;
}

void scheduler::remove_node(const std::string& node_id) {
  pool_.remove_node(node_id);
  changed_ = true;
}

bool scheduler::enqueue(queued_job job) {
  const auto key = queue_key(job);
  if (job.tasks == 0 || jobs_.count(key)) return false;
  std::sort(job.after.begin(), job.after.end());
  job.after.erase(std::unique(job.after.begin(), job.after.end()), job.after.end());
  for (const auto& dependency : job.after) dependants_[dependency].push_back(job.job_id);
  if (job.after.empty()) make_ready(job);
  jobs_.emplace(key, std::move(job));
  return true;
}

bool scheduler::withdraw(const std::string& job_id) {
  bool withdrawn = false;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->second.job_id != job_id) {
      ++it;
      continue;
    }
    if (it->second.after.empty())
      leave_ready(it->second);
    else
      forget_dependencies(it->second);
    it = jobs_.erase(it);
    withdrawn = true;
  }
  changed_ |= withdrawn;
  return withdrawn;
}

void scheduler::make_ready(const queued_job& job) {
  ready_[job.priority][job.tenant].emplace(job.order, queue_key(job));
  ready_milli_cpus_.insert(milli_cpus(job.per_task.cpus));
  changed_ = true;
}

// Leaves emptied queues in place: schedule() sweeps them.
void scheduler::leave_ready(const queued_job& job) {
  ready_[job.priority][job.tenant].erase({job.order, queue_key(job)});
  ready_milli_cpus_.erase(ready_milli_cpus_.find(milli_cpus(job.per_task.cpus)));
}

void scheduler::forget_dependencies(const queued_job& job) {
  for (const auto& dependency : job.after) {
    auto waiting = dependants_.find(dependency);
    if (waiting == dependants_.end()) continue;
    auto& ids = waiting->second;
    ids.erase(std::remove(ids.begin(), ids.end(), job.job_id), ids.end());
    if (ids.empty()) dependants_.erase(waiting);
  }
}

std::vector<placement> scheduler::schedule() {
  std::vector<placement> placed;
  if (!changed_) return placed;
  changed_ = false;
  scheduling_pass now(pool_);
  const amount total = pool_.schedulable_total();
  auto share_of = [&](const std::string& tenant) {
    auto it = pool_.tenants().find(tenant);
    return it == pool_.tenants().end() ? 0.0 : dominant_share(it->second.used, total);
  };
  const int64_t smallest = ready_milli_cpus_.empty() ? 0 : *ready_milli_cpus_.begin();
  failed_shapes cannot_start, cannot_reserve;
  bool placed_standby = false;

  struct turn {  // one tenant's queue within a priority
    std::set<queue_entry>* queue;
    std::set<queue_entry>::iterator next;
    double share;
  };
  for (auto level = ready_.begin(); level != ready_.end() && !now.exhausted(smallest);) {
    std::vector<turn> turns;
    for (auto& [tenant, queue] : level->second)
      if (!queue.empty()) turns.push_back({&queue, queue.begin(), share_of(tenant)});
    while (!turns.empty() && !now.exhausted(smallest)) {
      auto t = std::min_element(turns.begin(), turns.end(), [](const turn& a, const turn& b) {
        return std::tie(a.share, a.next->first) < std::tie(b.share, b.next->first);
      });
      auto entry = t->next++;
      const queued_job& job = jobs_.at(entry->second);
      const amount need = per_task(job.per_task);
      const shape s{need, fewest_tasks(job), &job.per_task.labels};
      const auto leave_queue = [&](placement p) {
        placed.push_back(std::move(p));
        ready_milli_cpus_.erase(ready_milli_cpus_.find(need.milli_cpus));
        jobs_.erase(entry->second);
        t->queue->erase(entry);
      };
      const bool may_start = !cannot_start.cover(s);
      const std::vector<size_t>* rooms = may_start ? now.fit(job) : nullptr;
      if (rooms) {
        placement p{job.job_id, {}, std::nullopt, job.task};
        for (uint32_t task = 0; task < rooms->size(); ++task) {
          const pool_node& node = now.node((*rooms)[task]);
          auto gpus = node.free_gpus();
          gpus.resize(job.per_task.gpus);
          p.tasks.push_back({node.capacity.node_id, std::move(gpus)});
          pool_.hold({job.job_id, job.task.value_or(task)}, job.tenant, p.tasks.back(),
                     job.per_task);
          now.take((*rooms)[task], need);
        }
        t->share = share_of(job.tenant);
        leave_queue(std::move(p));
      } else {
        if (may_start) cannot_start.add(s);
        if (auto behind = standbys_ ? now.standby(job, pool_) : std::nullopt) {
          const auto& [room, predecessor] = *behind;
          pool_.hold_standby({job.job_id, job.task.value_or(0)}, job.tenant, predecessor,
                             job.per_task);
          now.claim(room, need);
          // The next call may place another behind it (a pass places one per node).
          placed_standby = true;
          leave_queue({job.job_id, {{now.node(room).capacity.node_id, {}}}, predecessor, job.task});
        } else if (!cannot_reserve.cover(s) && !now.reserve(job)) {
          cannot_reserve.add(s);
        }
      }
      if (t->next == t->queue->end()) {
        *t = turns.back();
        turns.pop_back();
      }
    }
    auto& tenants = level->second;
    for (auto it = tenants.begin(); it != tenants.end();)
      it = it->second.empty() ? tenants.erase(it) : std::next(it);
    level = tenants.empty() ? ready_.erase(level) : std::next(level);
  }
  if (placed_standby) changed_ = true;
  return placed;
}

bool scheduler::release(const std::string& job_id, uint32_t task_index) {
  if (!pool_.release({job_id, task_index})) return false;
  changed_ = true;
  return true;
}

void scheduler::close_standby(const std::string& job_id, uint32_t task_index) {
  pool_.close_standby({job_id, task_index});
}

bool scheduler::hold(const std::string& job_id, uint32_t task_index, const std::string& tenant,
                     const task_placement& where, const jobs::resource_request& request) {
  if (!pool_.hold({job_id, task_index}, tenant, where, request, true)) return false;
  changed_ = true;
  return true;
}

std::vector<std::string> scheduler::dependency_done(const std::string& job_id, bool succeeded) {
  std::vector<std::string> failed;
  auto waiting = dependants_.find(job_id);
  if (waiting == dependants_.end()) return failed;
  std::vector<std::string> ids = std::move(waiting->second);
  dependants_.erase(waiting);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = jobs_.find(ids[i]);
    if (it == jobs_.end()) continue;
    queued_job& job = it->second;
    if (succeeded) {
      job.after.erase(std::find(job.after.begin(), job.after.end(), job_id));
      if (job.after.empty()) make_ready(job);
      continue;
    }
    // It fails, and so does every job behind it, found through the same loop.
    forget_dependencies(job);
    auto behind = dependants_.find(job.job_id);
    if (behind != dependants_.end()) {
      ids.insert(ids.end(), behind->second.begin(), behind->second.end());
      dependants_.erase(behind);
    }
    failed.push_back(job.job_id);
    jobs_.erase(it);
  }
  return failed;
}

std::optional<std::string> scheduler::never_fits(const jobs::resource_request& request,
                                                 uint32_t tasks) const {
  return pool_.never_fits(request, tasks);
}

scheduler_status scheduler::status() const {
  scheduler_status out;
  for (const auto& [id, node] : pool_.nodes()) {
    node_usage u;
    u.node_id = id;
    u.schedulable = node.capacity.schedulable;
    u.cpus = node.capacity.cpus;
    u.cpus_used = static_cast<double>(node.used.milli_cpus) / 1000;
    u.memory_mb = node.capacity.memory_mb;
    u.memory_used_mb = static_cast<uint64_t>(node.used.memory_mb);
    u.gpus = node.capacity.gpus;
    u.gpus_used.assign(node.gpus_in_use.begin(), node.gpus_in_use.end());
    u.tasks = node.tasks.size();
    out.nodes.push_back(std::move(u));
  }
  const amount total = pool_.schedulable_total();
  for (const auto& [tenant, use] : pool_.tenants())
    out.tenants.push_back({tenant, static_cast<double>(use.used.milli_cpus) / 1000,
                           static_cast<uint64_t>(use.used.memory_mb),
                           static_cast<uint32_t>(use.used.gpus), use.tasks,
                           dominant_share(use.used, total)});
  out.ready = ready_milli_cpus_.size();
  out.standbys = pool_.standbys();
  out.waiting = jobs_.size() - out.ready;
  return out;
}

}  // namespace troupe::scheduling
