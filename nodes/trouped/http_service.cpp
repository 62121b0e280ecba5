#include "nodes/trouped/http_service.hpp"

#include <spdlog/spdlog.h>
#include <cstdio>
#include <fstream>
#include <vector>

#include "cluster/http/server.hpp"
#include "cluster/inference_http/inference_routes.hpp"
#include "cluster/metrics/daemon_gauges.hpp"
#include "cluster/metrics/observability_routes.hpp"

namespace troupe::nodes {
namespace {

constexpr std::chrono::seconds gauge_period{2};

void write_http_endpoint_file(const std::string& dir, const std::string& address) {
  std::ofstream(dir + "/http_endpoint.tmp") << address << "\n";
  std::rename((dir + "/http_endpoint.tmp").c_str(), (dir + "/http_endpoint").c_str());
}

}  // namespace

struct http_service::impl {
  std::string data_dir;
  std::string host;
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<metrics::cluster_gauges> cluster;
  std::unique_ptr<metrics::node_gauges> node;
  std::unique_ptr<http::server> server;
  std::unique_ptr<metrics::gauge_refresher> refresher;
  std::string last_refresh_error;

  void refresh_gauges() {
    if (node) node->refresh();
    if (!cluster) return;
    try {
      cluster->refresh();
      last_refresh_error.clear();
    } catch (const store::store_error& e) {
      if (e.what() != last_refresh_error)
        spdlog::warn("cluster gauges not refreshed: {}", e.what());
      last_refresh_error = e.what();
    }
  }
};

http_service::http_service(const config::tcp_endpoint& at, const config::daemon_settings& s,
                           http_service_deps deps)
    : impl_(std::make_unique<impl>()) {
  impl_->data_dir = deps.data_dir;
  impl_->registry = deps.registry;
  impl_->host = at.host;
  if (deps.store)
    impl_->cluster = std::make_unique<metrics::cluster_gauges>(*impl_->registry, *deps.store);
  if (deps.offered)
    impl_->node =
        std::make_unique<metrics::node_gauges>(*impl_->registry, *deps.offered, deps.tasks_dir);
  http::router routes;
  metrics::add_health_routes(routes, [] { return true; });
  metrics::add_metrics_route(routes, impl_->registry);
  if (deps.models)
    inference_http::add_inference_routes(
        routes, {deps.models, deps.app_tokens,
                 std::make_shared<inference_http::inference_metrics>(*impl_->registry)});
  http::server_options options;
  options.host = at.host;
  options.port = at.port;
  options.io_threads = s.http_io_threads;
  options.max_body_bytes = s.http_max_body_bytes;
  impl_->server = std::make_unique<http::server>(options, std::move(routes));
}

http_service::~http_service() {
  impl_->server->stop();
  impl_->refresher.reset();
}

void http_service::start() {
  impl_->refresher =
      std::make_unique<metrics::gauge_refresher>(gauge_period, [this] { impl_->refresh_gauges(); });
  impl_->server->start();
  const auto address = impl_->host + ":" + std::to_string(impl_->server->port());
  write_http_endpoint_file(impl_->data_dir, address);
  spdlog::info("serving HTTP on {}", address);
}

std::unique_ptr<http_service> make_http_service(const config::daemon_settings& settings,
                                                http_service_deps deps) {
  const auto at = config::http_endpoint(settings);
  if (!at) return nullptr;
  return std::make_unique<http_service>(*at, settings, std::move(deps));
}

}  // namespace troupe::nodes
