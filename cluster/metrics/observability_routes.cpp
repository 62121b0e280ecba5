#include "cluster/metrics/observability_routes.hpp"

#include <prometheus/text_serializer.h>

namespace troupe::metrics {

void add_health_routes(http::router& routes, std::function<bool()> ready) {
  auto live = [](http::request&, http::responder respond) {
    respond(http::json_response(R"({"live":true})"));
  };
  routes.add("GET", "/healthz", live);
  routes.add("GET", "/v2/health/live", live);
  routes.add("GET", "/v2/health/ready", [ready](http::request&, http::responder respond) {
    if (!ready()) return respond(http::error_response(503, "not ready"));
    respond(http::json_response(R"({"ready":true})"));
  });
}

void add_metrics_route(http::router& routes, std::shared_ptr<prometheus::Registry> registry) {
  routes.add("GET", "/metrics", [registry](http::request&, http::responder respond) {
    http::response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = prometheus::TextSerializer().Serialize(registry->Collect());
    respond(std::move(r));
  });
}

}  // namespace troupe::metrics
