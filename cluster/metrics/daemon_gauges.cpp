#include "cluster/metrics/daemon_gauges.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

namespace troupe::metrics {
namespace {

const char* const node_states[] = {"alive", "suspect", "dead", "draining", "left"};
const char* const job_states[] = {"PENDING",   "SCHEDULED", "RUNNING",  "RETRYING",
                                  "SUCCEEDED", "FAILED",    "CANCELLED"};

void set_by_state(prometheus::Family<prometheus::Gauge>& family,
                  const std::map<std::string, uint64_t>& counts) {
  for (const auto& [state, count] : counts)
    family.Add({{"state", state}}).Set(static_cast<double>(count));
}

}  // namespace

cluster_gauges::cluster_gauges(prometheus::Registry& registry, store::cluster_store& store)
    : store_(store),
      nodes_(prometheus::BuildGauge()
                 .Name("troupe_cluster_nodes")
                 .Help("Nodes the head knows, by state")
                 .Register(registry)),
      jobs_(prometheus::BuildGauge()
                .Name("troupe_cluster_jobs")
                .Help("Jobs the head keeps, by state")
                .Register(registry)) {
  for (auto s : node_states) nodes_.Add({{"state", s}});
  for (auto s : job_states) jobs_.Add({{"state", s}});
}

void cluster_gauges::refresh() {
  std::map<std::string, uint64_t> nodes, jobs;
  for (auto s : node_states) nodes[s] = 0;
  for (auto s : job_states) jobs[s] = 0;
  for (const auto& n : store_.membership().load_nodes())
    ++nodes[n.draining && n.state == "alive" ? "draining" : n.state];
  for (const auto& [state, count] : store_.jobs().count_jobs_by_state()) jobs[state] = count;
  set_by_state(nodes_, nodes);
  set_by_state(jobs_, jobs);
}

node_gauges::node_gauges(prometheus::Registry& registry, const msg::resources& offered,
                         std::string tasks_dir)
    : tasks_dir_(std::move(tasks_dir)),
      tasks_running_(prometheus::BuildGauge()
                         .Name("troupe_node_tasks_running")
                         .Help("Task attempts running on this node")
                         .Register(registry)
                         .Add({})) {
  auto offer = [&](const char* name, const char* help, double value) {
    prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({}).Set(value);
  };
  offer("troupe_node_cpus", "CPUs this node offers", offered.cpus);
  offer("troupe_node_memory_bytes", "Memory this node offers",
        static_cast<double>(offered.memory_mb) * 1024 * 1024);
  offer("troupe_node_gpus", "GPUs this node offers", static_cast<double>(offered.gpus.size()));
}

void node_gauges::refresh() {
  // The runner's records (cluster/runner/group_records.hpp): one slot per running attempt,
  // "<pgid> <attempt id>\n", zeroed when it ends; so one newline per running attempt.
  std::ifstream records(tasks_dir_ + "/running", std::ios::binary);
  const auto running =
      std::count(std::istreambuf_iterator<char>(records), std::istreambuf_iterator<char>(), '\n');
  tasks_running_.Set(static_cast<double>(running));
}

gauge_refresher::gauge_refresher(std::chrono::milliseconds period, std::function<void()> refresh)
    : thread_([this, period, refresh = std::move(refresh)] {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_) {
          lock.unlock();
          refresh();
          lock.lock();
          stop_requested_.wait_for(lock, period, [this] { return stopping_; });
        }
      }) {}

gauge_refresher::~gauge_refresher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  thread_.join();
}

}  // namespace troupe::metrics
