#include "cluster/inference_http/inference_metrics.hpp"

namespace troupe::inference_http {
namespace {

const prometheus::Histogram::BucketBoundaries latency_buckets = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

}  // namespace

inference_metrics::inference_metrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("troupe_inference_requests_total")
                    .Help("Inference requests answered by the head's HTTP endpoints, by status")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("troupe_inference_request_duration_seconds")
                   .Help("Time from a request read whole to its answer")
                   .Register(registry)),
      rows_(prometheus::BuildCounter()
                .Name("troupe_inference_rows_total")
                .Help("Rows predicted")
                .Register(registry)) {}

void inference_metrics::record(const std::string& service, uint32_t version, unsigned status,
                               double seconds, uint32_t rows) {
  const auto v = std::to_string(version);
  requests_.Add({{"service", service}, {"version", v}, {"status", std::to_string(status)}})
      .Increment();
  latency_.Add({{"service", service}, {"version", v}}, latency_buckets).Observe(seconds);
  if (rows) rows_.Add({{"service", service}, {"version", v}}).Increment(rows);
}

}  // namespace troupe::inference_http
