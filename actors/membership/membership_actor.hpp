// The head's membership service: registration, heartbeats, failure detection, drain, and
// the cluster status and node list the CLI reads. Every change is made in memory and queued
// to the store actor, which lands it in order however long the store fails (docs/store.md):
// a registration is acknowledged at once, a drain or removal once it is stored. Every state
// change is logged as
//     node NAME (ID) incarnation N: FROM -> TO
//   (shutdown_atom) -> bool: the head's own node leaves; answered once that is stored.
//   (subscribe_atom, actor) -> msg::node_list_reply: the nodes now; from then on the actor
//     gets a node_event for every change, in order, until it goes down.
#pragma once

#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "actors/membership/registry.hpp"
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

// A change of a node that membership publishes to the head's other actors (the scheduler).
// `change` holds the node's reported states before and after (draining for a drained alive
// node); for `removed` both are its last state.
struct node_event {
  enum class kind {
    joined,         // a registration started a new incarnation, now alive
    state_changed,  // alive <-> suspect, -> dead, -> left
    drained,        // the drain flag was set, and stored
    undrained,      // ... cleared, and stored
    removed,        // forgotten (dead or left), from the store too
  };
  kind what;
  state_change change;
  msg::register_node_request node;  // the node's registration: resources, labels, addresses
  std::string peer;  // its connection on the head's socket, as its registration came from
};

caf::actor spawn_membership(caf::actor_system& system, membership_deps deps);

}  // namespace troupe::membership

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::membership::node_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::msg::node_list_reply)
