// What the scheduler's tests share (scheduler_test.cpp, scheduler_standbys_test.cpp): nodes and
// requests by their figures, the ids a schedule placed, and fixtures around one scheduler.
#pragma once

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

#include "actors/scheduler/scheduler.hpp"

namespace troupe::scheduler_testing {

using scheduling::node_capacity;
using scheduling::placement;
using scheduling::queued_job;

inline node_capacity node(const std::string& id, double cpus, uint64_t memory_mb = 8192,
                          std::vector<uint32_t> gpus = {},
                          std::map<std::string, std::string> labels = {}) {
  return {id, cpus, memory_mb, std::move(gpus), std::move(labels), true};
}

inline jobs::resource_request ask(double cpus, uint64_t memory_mb = 0, uint32_t gpus = 0,
                                  std::map<std::string, std::string> labels = {}) {
  jobs::resource_request r;
  r.cpus = cpus;
  r.memory_mb = memory_mb;
  r.gpus = gpus;
  r.labels = std::move(labels);
  return r;
}

// "a b c": the ids of the jobs placed, in the order schedule() returned them.
inline std::string ids(const std::vector<placement>& placed) {
  std::string out;
  for (const auto& p : placed) out += (out.empty() ? "" : " ") + p.job_id;
  return out;
}

// "a b": the node of each task of one placement.
inline std::string nodes_of(const placement& p) {
  std::string out;
  for (const auto& t : p.tasks) out += (out.empty() ? "" : " ") + t.node_id;
  return out;
}

struct fixture {
  scheduling::scheduler s;
  uint64_t next_order = 1;

  queued_job job(const std::string& id, const jobs::resource_request& per_task, uint32_t tasks = 1,
                 int32_t priority = 0, const std::string& tenant = "t") {
    return {id, tenant, priority, next_order++, per_task, tasks, {}, 0, std::nullopt};
  }
  // Task `index` of the job `id`, queued alone.
  queued_job task_alone(const std::string& id, uint32_t index,
                        const jobs::resource_request& per_task) {
    auto q = job(id, per_task);
    q.task = index;
    return q;
  }
  void submit(const std::string& id, double cpus, int32_t priority = 0,
              const std::string& tenant = "t") {
    BOOST_TEST_REQUIRE(s.enqueue(job(id, ask(cpus), 1, priority, tenant)));
  }
  // Releases every task of `p`.
  void finish(const placement& p) {
    for (uint32_t i = 0; i < p.tasks.size(); ++i) BOOST_TEST(s.release(p.job_id, i));
  }
  // The nodes of the one job that schedule() places now.
  std::string nodes_of_the_one_placed() {
    auto placed = s.schedule();
    BOOST_TEST_REQUIRE(placed.size() == 1u);
    return nodes_of(placed[0]);
  }
  double cpus_used(const std::string& node_id) {
    for (const auto& n : s.status().nodes)
      if (n.node_id == node_id) return n.cpus_used;
    BOOST_FAIL("no node " + node_id);
    return -1;
  }
};

// A scheduler that places standbys.
struct standby_fixture : fixture {
  standby_fixture() { s = scheduling::scheduler(true); }
  size_t standbys() { return s.status().standbys; }
  // "job.task": the task the one standby that schedule() places now follows; "" when it
  // places something else.
  std::string standby_placed() {
    auto placed = s.schedule();
    if (placed.size() != 1u || !placed[0].after) return "";
    return placed[0].after->job_id + "." + std::to_string(placed[0].after->task_index);
  }
};

}  // namespace troupe::scheduler_testing
