// A daemon's HTTP server (docs/http.md) and what it serves: health and /metrics on every
// daemon; on the head also the cluster's gauges and the inference endpoints. The bound address goes
// to DATA_DIR/http_endpoint (HOST:PORT), for scripts and the local cluster harness.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <prometheus/registry.h>

#include "cluster/inference/predictor.hpp"
#include "cluster/security/app_tokens.hpp"
#include "cluster/store/store.hpp"
#include "config/settings.hpp"
#include "messages/cluster.hpp"

namespace troupe::nodes {

struct http_service_deps {
  std::string data_dir;
  // What /metrics shows: the daemon's actors add their figures to it too.
  std::shared_ptr<prometheus::Registry> registry;
  std::shared_ptr<store::cluster_store> store;  // the head's; null on a node
  std::optional<msg::resources> offered;        // a node agent's; nullopt: no agent here
  std::string tasks_dir;                        // the runner's, with offered
  // The head's inference endpoints answer through `models` (which outlives the service) and
  // check `app_tokens`; null on a node.
  inference::predictor* models = nullptr;
  std::shared_ptr<security::app_token_registry> app_tokens;
};

class http_service {
 public:
  // Binds (throws std::runtime_error naming the address); serves after start().
  http_service(const config::tcp_endpoint& at, const config::daemon_settings& settings,
               http_service_deps deps);
  ~http_service();
  void start();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The daemon's HTTP service by its settings, or null when it serves no HTTP.
std::unique_ptr<http_service> make_http_service(const config::daemon_settings& settings,
                                                http_service_deps deps);

}  // namespace troupe::nodes
