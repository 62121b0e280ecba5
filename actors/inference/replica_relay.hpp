// The node's side of its serve replicas (docs/protocol.md, Inference messages): relays what a
// replica sends over the rank link (ResolveServiceRequest, ReplicaReport; only for the attempt
// its key was made for) to the head over the node's own link and the head's answers back, and
// the head's ResolveServiceRequests (resolve now, for a reload) to the replica their `attemptId`
// names, unanswered. Predictions do not pass here: the head sends them to the replica's own
// socket, which its reports name (nodes/replica/prediction_socket.hpp).
//
// A replica is reachable once it sent its first message (the relay learns its rank link
// connection then) and while its key lasts. A replica's request the head leaves unanswered gets
// `timeout` after 10 s. Relayed requests carry ids with the top two bits set, so that the head's
// errors to them are told from those to the rank relay's (top bit alone) and the agent's.
//
// The figures of the replicas' reports (rows per forward pass, queue depth) go to the node's
// /metrics as they pass, labelled with the service the head's resolution named (only versions
// it resolved for that replica count).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/metrics/serving_figures.hpp"
#include "cluster/security/rank_keys.hpp"

namespace troupe::inference {

// The request ids of what this relay sends to the head.
inline constexpr uint64_t relayed_replica_bits = uint64_t{3} << 62;

struct replica_relay_deps {
  actors::wire_endpoint_ptr rank_link;  // the ROUTER the node's replicas connect to
  actors::wire_endpoint_ptr head;       // the node's DEALER connected to the head
  std::shared_ptr<const security::rank_keys> keys;
  std::string self_name;
  std::shared_ptr<metrics::replica_figures> figures;  // the node's (scope node)
};

caf::actor spawn_replica_relay(caf::actor_system& system, replica_relay_deps deps);

}  // namespace troupe::inference
