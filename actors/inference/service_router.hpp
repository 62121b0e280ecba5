// The head's service router: serves the inference area of the protocol (messages/inference.capnp,
// docs/protocol.md) and the head's own front ends through `predictor` (predictor.hpp).
//
// Clients' PredictRequests (and the predictor's predictions) go to a ready replica of the
// service (service_table.hpp): the router sends the request, with `replica` set, to the
// replica's node and answers once the node relays the replica's answer. A request the node
// answers with an error (its replica is gone) or leaves unanswered for 5 s is tried once more
// on another replica, else answered `unavailable`. Replicas' relayed ResolveServiceRequests are
// checked with the job service (an attempt of a serve job, on the sending node, of its current
// round) and answered from the model registry's versions; their ReplicaReports say what they
// serve; the job service tells the router of every attempt that ends, and a replica whose
// attempt ended is dropped at once. A reload (predictor::reload) sends each replica of the service,
// through its node, a ResolveServiceRequest naming it (resolve now) and answers once every one of
// them resolved after that and reported: done, `conflict` naming the versions a replica could not
// load (it serves what it served), or `timeout` after 10 s. Roles: admin and submit for clients (a
// submit key sees only its own tenant's services), node for what a node relays.
//
// Runs detached: a resolution reads the registry's versions from the store.
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/inference/predictor.hpp"
#include "cluster/store/store.hpp"

namespace troupe::inference {

struct service_router_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  caf::actor jobs;                     // the job service
  std::shared_ptr<store::cluster_store> store;
  std::string self_name;  // sender name in replies
};

caf::actor spawn_service_router(caf::actor_system& system, service_router_deps deps);

// The router as the head's HTTP server calls it: thread-safe, never blocks.
std::unique_ptr<predictor> router_predictor(caf::actor router);

}  // namespace troupe::inference
