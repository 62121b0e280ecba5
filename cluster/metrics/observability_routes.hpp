// The routes every daemon serves (docs/http.md): /healthz and the Open Inference Protocol's
// health endpoints, and /metrics in Prometheus' text format from a registry.
#pragma once

#include <functional>
#include <memory>

#include <prometheus/registry.h>

#include "cluster/http/router.hpp"

namespace troupe::metrics {

// /healthz and /v2/health/live answer 200 while the daemon serves; /v2/health/ready answers 200
// when `ready()` holds, else 503.
void add_health_routes(http::router& routes, std::function<bool()> ready);

// /metrics: every family of `registry`, text format 0.0.4.
void add_metrics_route(http::router& routes, std::shared_ptr<prometheus::Registry> registry);

}  // namespace troupe::metrics
