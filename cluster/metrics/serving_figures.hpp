// The serving figures /metrics shows besides the HTTP endpoints' own (inference_metrics): the
// head's response cache lookups, and the replicas' own figures from their ReplicaReports (rows
// per forward pass, requests waiting for one), as the node that relays them and the head that
// receives them see them. Labels stay bounded: service, version and (on the head) node.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "messages/inference.hpp"

namespace troupe::metrics {

// troupe_inference_cache_hits_total{service} and troupe_inference_cache_misses_total{service}.
class cache_counters {
 public:
  explicit cache_counters(std::shared_ptr<prometheus::Registry> registry);
  void lookup(const std::string& service, bool hit);

 private:
  std::shared_ptr<prometheus::Registry> registry_;  // kept alive for the families below
  prometheus::Family<prometheus::Counter>& hits_;
  prometheus::Family<prometheus::Counter>& misses_;
};

// Per service and version: a histogram of the rows of each forward pass, and a gauge of the
// requests waiting for one. On a node (troupe_node_replica_batch_rows, ..._queue_depth) of its
// own replicas; on the head (troupe_inference_batch_rows, ..._queue_depth, with a node label) of
// every replica. A report is cumulative since its replica loaded the version: the histogram grows
// by what it adds to that replica's last report (counting from zero when the replica loaded the
// version again). A replica that has not reported for 3 s leaves the gauges.
//
// Not thread-safe: one actor reports (the registry's families are read by /metrics at once).
class replica_figures {
 public:
  using clock = std::chrono::steady_clock;
  enum class scope { node, head };

  replica_figures(std::shared_ptr<prometheus::Registry> registry, scope where);
  // The versions `attempt_id` serves now, as its report gives them (the caller keeps only those
  // the head resolved for it). `node` labels them on the head; a node ignores it.
  void report(const std::string& attempt_id, const std::string& service, const std::string& node,
              const std::vector<msg::loaded_version>& versions, clock::time_point now);
  void forget_silent(clock::time_point now);

 private:
  struct version_seen {
    std::vector<uint64_t> passes;  // pass_row_buckets entries
    uint64_t rows = 0;
    uint32_t queue = 0;
  };
  struct replica_seen {
    prometheus::Labels labels;  // service (and node)
    clock::time_point heard;
    std::map<uint32_t, version_seen> versions;
  };

  void refresh_queues();

  std::shared_ptr<prometheus::Registry> registry_;  // kept alive for the families below
  const bool with_node_;
  prometheus::Family<prometheus::Histogram>& batch_rows_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  std::map<std::string, replica_seen> replicas_;             // by attempt id
  std::map<prometheus::Labels, prometheus::Gauge*> queues_;  // those shown now
};

}  // namespace troupe::metrics
