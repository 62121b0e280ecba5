#include "actors/scheduler/resource_pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace troupe::scheduling {
namespace {

amount total_of(const node_capacity& c) {
  return {milli_cpus(c.cpus), static_cast<int64_t>(c.memory_mb),
          static_cast<int64_t>(c.gpus.size())};
}

std::string cpus_text(int64_t milli) {
  std::ostringstream out;
  out << static_cast<double>(milli) / 1000;
  return out.str();
}

std::string label_text(const std::pair<const std::string, std::string>& label) {
  return label.first + "=" + label.second;
}

// How many tasks needing `need` fit side by side in `room`, at most `cap`.
uint32_t tasks_fitting(const amount& room, const amount& need, uint32_t cap) {
  int64_t n = cap;
  auto limit = [&](int64_t have, int64_t per_task) {
    if (per_task > 0) n = std::min(n, have / per_task);
  };
  limit(room.milli_cpus, need.milli_cpus);
  limit(room.memory_mb, need.memory_mb);
  limit(room.gpus, need.gpus);
  return static_cast<uint32_t>(std::max<int64_t>(n, 0));
}

}  // namespace

amount& amount::operator+=(const amount& o) {
  milli_cpus += o.milli_cpus;
  memory_mb += o.memory_mb;
  gpus += o.gpus;
  return *this;
}

amount& amount::operator-=(const amount& o) {
  milli_cpus -= o.milli_cpus;
  memory_mb -= o.memory_mb;
  gpus -= o.gpus;
  return *this;
}

bool amount::covers(const amount& need) const {
  return milli_cpus >= need.milli_cpus && memory_mb >= need.memory_mb && gpus >= need.gpus;
}

int64_t milli_cpus(double cpus) { return std::llround(cpus * 1000); }

amount per_task(const jobs::resource_request& r) {
  return {milli_cpus(r.cpus), static_cast<int64_t>(r.memory_mb), static_cast<int64_t>(r.gpus)};
}

bool carries(const std::map<std::string, std::string>& node_labels,
             const std::map<std::string, std::string>& wanted) {
  for (const auto& [key, value] : wanted) {
    auto it = node_labels.find(key);
    if (it == node_labels.end() || it->second != value) return false;
  }
  return true;
}

amount pool_node::free() const {
  amount left = total;
  left -= used;
  // Only the node's own GPUs that no task holds: a held GPU the node stopped reporting is
  // neither free nor a debt.
  left.gpus = std::count_if(capacity.gpus.begin(), capacity.gpus.end(),
                            [&](uint32_t gpu) { return !gpus_in_use.count(gpu); });
  return left;
}

std::vector<uint32_t> pool_node::free_gpus() const {
  std::vector<uint32_t> out;
  for (uint32_t gpu : capacity.gpus)
    if (!gpus_in_use.count(gpu)) out.push_back(gpu);
  return out;
}

void resource_pool::update_node(const node_capacity& capacity) {
  auto& node = nodes_[capacity.node_id];
  node.capacity = capacity;
  std::sort(node.capacity.gpus.begin(), node.capacity.gpus.end());
  node.total = total_of(node.capacity);
}

void resource_pool::remove_node(const std::string& node_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  for (const auto& task : it->second.tasks) {
    auto held = holdings_.find(task);
    for (auto next = held->second.standby; next;) {
      auto waiting = standbys_.find(*next);
      next = waiting->second.next;
      standbys_.erase(waiting);
    }
    drop(held);
  }
  nodes_.erase(it);
}

bool resource_pool::hold(const task_key& task, const std::string& tenant,
                         const task_placement& where, const jobs::resource_request& request,
                         bool recovered) {
  auto node = nodes_.find(where.node_id);
  if (node == nodes_.end() || holdings_.count(task) || standbys_.count(task)) return false;
  for (uint32_t gpu : where.gpus)
    if (node->second.gpus_in_use.count(gpu)) return false;
  holding h{tenant, where.node_id, per_task(request), where.gpus, std::nullopt, recovered};
  h.held.gpus = static_cast<int64_t>(where.gpus.size());
  node->second.used += h.held;
  node->second.gpus_in_use.insert(where.gpus.begin(), where.gpus.end());
  node->second.tasks.insert(task);
  auto& use = tenants_[tenant];
  use.used += h.held;
  ++use.tasks;
  holdings_.emplace(task, std::move(h));
  return true;
}

void resource_pool::close_standby(const task_key& task) {
  if (auto waiting = standbys_.find(task); waiting != standbys_.end())
    waiting->second.closed = true;
}

std::optional<task_key>& resource_pool::standby_after(const task_key& predecessor) {
  if (auto held = holdings_.find(predecessor); held != holdings_.end()) return held->second.standby;
  return standbys_.at(predecessor).next;
}

bool resource_pool::release(const task_key& task) {
  if (auto waiting = standbys_.find(task); waiting != standbys_.end()) {
    const auto next = waiting->second.next;
    const auto predecessor = waiting->second.predecessor;
    standby_after(predecessor) = next;
    if (next) standbys_.at(*next).predecessor = predecessor;
    standbys_.erase(waiting);
    return true;
  }
  auto it = holdings_.find(task);
  if (it == holdings_.end()) return false;
  const std::string node_id = it->second.node_id;
  auto node = nodes_.find(node_id);
  if (node != nodes_.end()) node->second.tasks.erase(task);
  std::optional<task_key> next = it->second.standby;
  drop(it);
  if (next) {
    auto waiting = standbys_.find(*next);
    standby s = std::move(waiting->second);
    standbys_.erase(waiting);
    if (hold(*next, s.tenant, {node_id, {}}, s.request))
      holdings_.at(*next).standby = s.next;  // the rest of the chain follows it now
  }
  return true;
}

namespace {

bool can_follow(const amount& held, const jobs::resource_request& request) {
  const amount need = per_task(request);
  return request.gpus == 0 && held.milli_cpus >= need.milli_cpus &&
         held.memory_mb >= need.memory_mb;
}

}  // namespace

std::optional<task_key> resource_pool::standby_slot(const std::string& node_id,
                                                    const jobs::resource_request& request) const {
  auto node = nodes_.find(node_id);
  if (node == nodes_.end()) return std::nullopt;
  std::optional<task_key> best;
  std::pair<int64_t, int64_t> best_rank;  // (CPUs, memory) held: smaller first
  for (const auto& task : node->second.tasks) {
    const holding& h = holdings_.at(task);
    if (h.recovered) continue;
    task_key last = task;
    amount last_holds = h.held;
    size_t waiting = 0;
    bool closed = false;
    for (auto next = h.standby; next; ++waiting) {
      const standby& s = standbys_.at(*next);
      last = *next;
      last_holds = per_task(s.request);
      closed = s.closed;
      next = s.next;
    }
    if (closed || waiting >= max_standbys || !can_follow(last_holds, request)) continue;
    const std::pair<int64_t, int64_t> rank{h.held.milli_cpus, h.held.memory_mb};
    if (!best || rank < best_rank) {
      best = last;
      best_rank = rank;
    }
  }
  return best;
}

bool resource_pool::hold_standby(const task_key& task, const std::string& tenant,
                                 const task_key& predecessor,
                                 const jobs::resource_request& request) {
  if (holdings_.count(task) || standbys_.count(task)) return false;
  // The held task at the chain's head, and the chain's length, from `predecessor` back.
  task_key head = predecessor;
  size_t waiting = 0;
  for (auto s = standbys_.find(head); s != standbys_.end(); s = standbys_.find(head)) {
    head = s->second.predecessor;
    ++waiting;
  }
  auto held = holdings_.find(head);
  if (held == holdings_.end() || held->second.recovered || waiting >= max_standbys) return false;
  if (waiting > 0 && standbys_.at(predecessor).closed) return false;
  const amount follows =
      waiting == 0 ? held->second.held : per_task(standbys_.at(predecessor).request);
  if (standby_after(predecessor) || !can_follow(follows, request)) return false;
  standby_after(predecessor) = task;
  standbys_.emplace(task, standby{tenant, predecessor, request, std::nullopt});
  return true;
}

// Returns a holding's resources to its node (if still known) and its tenant. The caller
// keeps the node's task set consistent.
void resource_pool::drop(std::map<task_key, holding>::iterator it) {
  const holding& h = it->second;
  auto node = nodes_.find(h.node_id);
  if (node != nodes_.end()) {
    node->second.used -= h.held;
    for (uint32_t gpu : h.gpus) node->second.gpus_in_use.erase(gpu);
  }
  auto tenant = tenants_.find(h.tenant);
  tenant->second.used -= h.held;
  if (--tenant->second.tasks == 0) tenants_.erase(tenant);
  holdings_.erase(it);
}

amount resource_pool::schedulable_total() const {
  amount sum;
  for (const auto& [id, node] : nodes_)
    if (node.capacity.schedulable) sum += node.total;
  return sum;
}

std::optional<std::string> resource_pool::never_fits(const jobs::resource_request& request,
                                                     uint32_t tasks) const {
  if (nodes_.empty()) return std::string("resources: the cluster has no node yet");
  std::vector<const pool_node*> labelled;
  for (const auto& [id, node] : nodes_)
    if (carries(node.capacity.labels, request.labels)) labelled.push_back(&node);
  if (labelled.empty()) {
    for (const auto& label : request.labels) {
      bool anywhere = std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& entry) {
        return carries(entry.second.capacity.labels, {label});
      });
      if (!anywhere) return "resources.labels: no node has " + label_text(label);
    }
    std::string all;
    for (const auto& label : request.labels) all += (all.empty() ? "" : ", ") + label_text(label);
    return "resources.labels: no node has all of " + all;
  }
  const std::string which = request.labels.empty() ? "node" : "node with those labels";
  const amount need = per_task(request);
  amount largest{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min(),
                 std::numeric_limits<int64_t>::min()};
  for (const pool_node* node : labelled) {
    largest.milli_cpus = std::max(largest.milli_cpus, node->total.milli_cpus);
    largest.memory_mb = std::max(largest.memory_mb, node->total.memory_mb);
    largest.gpus = std::max(largest.gpus, node->total.gpus);
  }
  if (largest.milli_cpus < need.milli_cpus)
    return "resources.cpus: " + cpus_text(need.milli_cpus) + " per task, but the largest " + which +
           " has " + cpus_text(largest.milli_cpus);
  if (largest.memory_mb < need.memory_mb)
    return "resources.memory_mb: " + std::to_string(need.memory_mb) +
           " per task, but the largest " + which + " has " + std::to_string(largest.memory_mb);
  if (largest.gpus < need.gpus)
    return "resources.gpus: " + std::to_string(need.gpus) + " per task, but the largest " + which +
           " has " + std::to_string(largest.gpus);
  bool one_fits = std::any_of(labelled.begin(), labelled.end(),
                              [&](const pool_node* node) { return node->total.covers(need); });
  if (!one_fits)
    return "resources: " + cpus_text(need.milli_cpus) + " cpus, " + std::to_string(need.memory_mb) +
           " memory_mb and " + std::to_string(need.gpus) + " gpus per task, but no " + which +
           " has them all";
  uint32_t room = 0;
  for (const pool_node* node : labelled) room += tasks_fitting(node->total, need, tasks - room);
  if (room < tasks)
    return "tasks: " + std::to_string(tasks) + ", but the cluster holds at most " +
           std::to_string(room) + " tasks of this size at once";
  return std::nullopt;
}

}  // namespace troupe::scheduling
