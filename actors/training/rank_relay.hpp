// The node's side of the rank link: takes what its rank processes send over the rank link (an
// ipc:// ROUTER, CURVE with the rank keys the runner made, rank_keys.hpp) and relays it to the
// head over the node's own link, then the head's answers back to the rank that asked.
//
// A rank speaks only for its own attempt: a message whose attemptId is not the attempt its key
// was made for is answered permissionDenied and goes no further; one whose key was dropped (the
// attempt ended) is dropped, and so is any answer to it. Relayed requests carry request ids with
// the top bit set, so that the head's answers to them are told apart from the node agent's: an
// error the relay does not know is the agent's and goes to it, or the replica relay's when its
// id says so. A request the head leaves
// unanswered is answered `timeout` to the rank, a get or a dataset assembly 5 s after its own
// timeout, a set or a model registration after 30 s.
//
// Fetches and publishes of artifacts are the node's own to answer: they go to the node's
// artifact worker (rank_artifacts.hpp), at most 16 waiting or under way (more: overloaded), so
// that rendezvous and metrics never wait behind a transfer. A transfer is answered `timeout`
// once its timeoutMs passed.
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/security/rank_keys.hpp"

namespace troupe::training {

struct rank_relay_deps {
  actors::wire_endpoint_ptr rank_link;  // the ROUTER the node's ranks connect to
  actors::wire_endpoint_ptr head;       // the node's DEALER connected to the head
  std::shared_ptr<const security::rank_keys> keys;
  caf::actor agent;  // gets the head's errors that answer no relayed request
  // Gets the head's errors to the replica relay's requests (inference::relayed_replica_bits).
  caf::actor replicas;
  std::string self_name;
  caf::actor artifacts;  // the node's artifact worker (spawn_rank_artifacts)
};

caf::actor spawn_rank_relay(caf::actor_system& system, rank_relay_deps deps);

}  // namespace troupe::training
