// The head's service router: serves the inference area of the protocol (messages/inference.capnp,
// docs/protocol.md) and the head's own front ends through `predictor` (predictor.hpp).
//
// Predictions — clients' PredictRequests and the predictor's — go through the prediction desk
// (prediction_desk.hpp), which sends each, with `replica` set, straight to the prediction socket
// of a ready replica of the service, which the replica's reports name (a CURVE connection per
// replica, with the head's key: the socket admits no other), and answers with the replica's
// answer; the predictor's never pass through the router actor. The router keeps the desk's
// service table (service_table.hpp) up to date: replicas' relayed ResolveServiceRequests are
// checked with the job service (an attempt of a serve job, on the sending node, of its current
// round) and answered from the model registry's versions; their ReplicaReports say what they
// serve and where their prediction socket is; the job service tells the router of every attempt
// that ends, and a replica whose attempt ended is dropped at once. A reload (predictor::reload)
// sends each replica of the service, through its node, a ResolveServiceRequest naming it (resolve
// now) and answers once every one of them resolved after that and reported: done, `conflict`
// naming the versions a replica could not load (it serves what it served), or `timeout` after
// 10 s. Roles: admin and submit for clients (a submit key sees only its own tenant's services),
// node for what a node relays.
//
// A service whose spec has a `cache` is answered from the desk's response cache of it
// (response_cache.hpp) for HTTP and protocol callers alike. The replicas' reports' figures go to
// the head's /metrics (serving_figures.hpp). The services' access policies are published for the
// predictor's access(), which HTTP threads call.
//
// Runs detached: a resolution reads the registry's versions from the store.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/inference/predictor.hpp"
#include "cluster/metrics/serving_figures.hpp"
#include "cluster/store/store.hpp"

namespace troupe::inference {

class prediction_desk;

// The running services' access policies, as the router last published them. Thread-safe.
class service_access_board {
 public:
  void publish(std::vector<std::pair<std::string, service_access>> by_name);
  // The first service named `service` that `tenant` may see (empty: any).
  std::optional<service_access> find(const std::string& service, const std::string& tenant) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, service_access>> by_name_;
};

struct service_router_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  caf::actor jobs;                     // the job service
  std::shared_ptr<store::cluster_store> store;
  std::string self_name;                              // sender name in replies
  std::shared_ptr<metrics::replica_figures> figures;  // the head's (scope head)
  std::shared_ptr<service_access_board> access;       // what the router publishes to
  std::shared_ptr<prediction_desk> desk;
};

caf::actor spawn_service_router(caf::actor_system& system, service_router_deps deps);

// The router as the head's HTTP server calls it, with the desk and board of the router's deps:
// thread-safe, never blocks; a prediction goes to the desk on the caller's thread.
std::unique_ptr<predictor> router_predictor(caf::actor router,
                                            std::shared_ptr<prediction_desk> desk,
                                            std::shared_ptr<const service_access_board> access);

}  // namespace troupe::inference
