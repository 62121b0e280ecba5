// The inference endpoints' figures on /metrics, per service and version: requests by HTTP
// status, latency, rows. A request refused before it reached a known service (bad token, bad
// body, unknown model) counts under service="" and version="0", so that made-up model names
// cannot grow the series without bound.
#pragma once

#include <cstdint>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace troupe::inference_http {

class inference_metrics {
 public:
  explicit inference_metrics(prometheus::Registry& registry);
  void record(const std::string& service, uint32_t version, unsigned status, double seconds,
              uint32_t rows);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& rows_;
};

}  // namespace troupe::inference_http
