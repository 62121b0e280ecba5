// The gauges a daemon shows on /metrics about itself and, on the head, about the cluster.
// refresh() reads what they show; a gauge_refresher calls it on a thread of its own, so that a
// scrape never waits for the store.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "cluster/store/store.hpp"
#include "messages/cluster.hpp"

namespace troupe::metrics {

// The head's: troupe_cluster_nodes{state} and troupe_cluster_jobs{state}, from the store (every
// state always present, 0 when nothing is in it; a node being drained counts as "draining").
class cluster_gauges {
 public:
  cluster_gauges(prometheus::Registry& registry, store::cluster_store& store);
  // Throws store_error; the gauges keep their last values then.
  void refresh();

 private:
  store::cluster_store& store_;
  prometheus::Family<prometheus::Gauge>& nodes_;
  prometheus::Family<prometheus::Gauge>& jobs_;
};

// A node's: what it offers (troupe_node_cpus, troupe_node_memory_bytes, troupe_node_gpus) and
// troupe_node_tasks_running, read from its runner's records of running task groups.
class node_gauges {
 public:
  node_gauges(prometheus::Registry& registry, const msg::resources& offered, std::string tasks_dir);
  void refresh();

 private:
  std::string tasks_dir_;
  prometheus::Gauge& tasks_running_;
};

// Calls `refresh` at once and then every `period` on its own thread until destroyed.
class gauge_refresher {
 public:
  gauge_refresher(std::chrono::milliseconds period, std::function<void()> refresh);
  ~gauge_refresher();
  gauge_refresher(const gauge_refresher&) = delete;
  gauge_refresher& operator=(const gauge_refresher&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace troupe::metrics
