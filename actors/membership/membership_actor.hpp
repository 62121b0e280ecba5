// The head's membership service: registration, heartbeats, failure detection, drain, and
// the cluster status and node list the CLI reads. Every change is made in memory and queued
// to the store actor, which lands it in order however long the store fails (docs/store.md):
// a registration is acknowledged at once, a drain or removal once it is stored. Every state
// change is logged as
//     node NAME (ID) incarnation N: FROM -> TO
//   (shutdown_atom) -> bool: the head's own node leaves; answered once that is stored.
#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/store/store.hpp"
#include "config/settings.hpp"

namespace troupe::membership {

struct membership_deps {
  actors::wire_endpoint_ptr endpoint;           // the head's ROUTER
  caf::actor store;                             // a store actor (the write-ahead queue)
  std::vector<store::node_record> known_nodes;  // loaded from the store at start
  config::failure_detector_settings detector;
  uint32_t heartbeat_interval_ms = 200;
  std::string head_node_id;  // the node agent running inside the head, if any
  std::string self_name;     // sender name in replies
};

caf::actor spawn_membership(caf::actor_system& system, membership_deps deps);

}  // namespace troupe::membership
