// The head's membership service: registration, heartbeats, failure detection, drain, and
// the cluster status and node list the CLI reads. Every registration and drain is written
// to the store before it is acknowledged; state changes found by the failure detector are
// written as they happen, and every one is logged as
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
  caf::actor store;                             // a store_actor
  std::vector<store::node_record> known_nodes;  // loaded from the store at start
  config::failure_detector_settings detector;
  uint32_t heartbeat_interval_ms = 200;
  std::string head_node_id;  // the node agent running inside the head, if any
  std::string self_name;     // sender name in replies
};

caf::actor spawn_membership(caf::actor_system& system, membership_deps deps);

}  // namespace troupe::membership
