#include "cluster/metrics/serving_figures.hpp"

#include <algorithm>

namespace troupe::metrics {
namespace {

constexpr auto silent_after = std::chrono::seconds(3);

// 1, 2, 4, ... 4096: the upper bounds of LoadedVersion.passesByRows's entries.
prometheus::Histogram::BucketBoundaries pass_row_bounds() {
  prometheus::Histogram::BucketBoundaries out;
  for (size_t i = 0; i < msg::pass_row_buckets; ++i) out.push_back(static_cast<double>(1u << i));
  return out;
}

}  // namespace

cache_counters::cache_counters(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      hits_(prometheus::BuildCounter()
                .Name("troupe_inference_cache_hits_total")
                .Help("Predictions the head answered from its response cache, per service")
                .Register(*registry_)),
      misses_(prometheus::BuildCounter()
                  .Name("troupe_inference_cache_misses_total")
                  .Help("Predictions of a cached service the head had to ask a replica for")
                  .Register(*registry_)) {}

void cache_counters::lookup(const std::string& service, bool hit) {
  (hit ? hits_ : misses_).Add({{"service", service}}).Increment();
}

replica_figures::replica_figures(std::shared_ptr<prometheus::Registry> registry, scope where)
    : registry_(std::move(registry)),
      with_node_(where == scope::head),
      batch_rows_(
          prometheus::BuildHistogram()
              .Name(with_node_ ? "troupe_inference_batch_rows" : "troupe_node_replica_batch_rows")
              .Help("Rows of each forward pass of the replicas, as they report them")
              .Register(*registry_)),
      queue_depth_(
          prometheus::BuildGauge()
              .Name(with_node_ ? "troupe_inference_queue_depth" : "troupe_node_replica_queue_depth")
              .Help("Requests waiting for a forward pass in the replicas, as last reported")
              .Register(*registry_)) {}

void replica_figures::report(const std::string& attempt_id, const std::string& service,
                             const std::string& node,
                             const std::vector<msg::loaded_version>& versions,
                             clock::time_point now) {
  static const auto bounds = pass_row_bounds();
  auto& replica = replicas_[attempt_id];
  replica.labels = {{"service", service}};
  if (with_node_) replica.labels["node"] = node;
  replica.heard = now;
  std::map<uint32_t, version_seen> seen_now;
  for (const auto& v : versions) {
    version_seen now_seen{v.passes_by_rows, v.rows_forwarded, v.queue_depth};
    now_seen.passes.resize(msg::pass_row_buckets, 0);
    const auto before = replica.versions.find(v.version);
    const bool restarted =
        before == replica.versions.end() || now_seen.rows < before->second.rows ||
        !std::equal(now_seen.passes.begin(), now_seen.passes.end(), before->second.passes.begin(),
                    before->second.passes.end(), [](uint64_t now_count, uint64_t before_count) {
                      return now_count >= before_count;
                    });
    std::vector<double> added(bounds.size() + 1, 0);  // the last: beyond every bound, never
    bool any = false;
    for (size_t i = 0; i < msg::pass_row_buckets; ++i) {
      const auto was = restarted ? 0 : before->second.passes[i];
      added[i] = static_cast<double>(now_seen.passes[i] - was);
      any = any || added[i] > 0;
    }
    if (any) {
      auto labels = replica.labels;
      labels["version"] = std::to_string(v.version);
      const auto rows = now_seen.rows - (restarted ? 0 : before->second.rows);
      batch_rows_.Add(labels, bounds).ObserveMultiple(added, static_cast<double>(rows));
    }
    seen_now[v.version] = std::move(now_seen);
  }
  replica.versions = std::move(seen_now);
  refresh_queues();
}

void replica_figures::forget_silent(clock::time_point now) {
  const auto before = replicas_.size();
  for (auto it = replicas_.begin(); it != replicas_.end();)
    it = now - it->second.heard >= silent_after ? replicas_.erase(it) : std::next(it);
  if (replicas_.size() != before) refresh_queues();
}

void replica_figures::refresh_queues() {
  std::map<prometheus::Labels, double> sums;
  for (const auto& [attempt, replica] : replicas_)
    for (const auto& [version, seen] : replica.versions) {
      auto labels = replica.labels;
      labels["version"] = std::to_string(version);
      sums[labels] += seen.queue;
    }
  for (auto it = queues_.begin(); it != queues_.end();) {
    if (sums.count(it->first)) {
      ++it;
      continue;
    }
    queue_depth_.Remove(it->second);
    it = queues_.erase(it);
  }
  for (const auto& [labels, sum] : sums) {
    auto& gauge = queues_[labels];
    if (!gauge) gauge = &queue_depth_.Add(labels);
    gauge->Set(sum);
  }
}

}  // namespace troupe::metrics
