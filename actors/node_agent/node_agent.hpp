// The node agent: registers this node with the head and heartbeats while registered.
//
//   registering --RegisterNodeReply--> registered --HeartbeatRejected(unknownNode)--> registering
//        ^  (retried with backoff            |
//        |   while unanswered)               +--HeartbeatRejected(declaredDead)--> new incarnation,
//        +---------------------------------------------------------------------------- registering
//   The same rejections answer a registration whose incarnation cannot be accepted; an error
//   (e.g. the name is held by another live node) is logged and the registration retried.
//   HeartbeatRejected(staleIncarnation): another process owns this node id; the daemon stops.
//   (shutdown_atom): sends DeregisterNode and replies when it is queued.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/host/identity.hpp"
#include "messages/cluster.hpp"

namespace troupe::node_agent {

struct node_agent_deps {
  actors::wire_endpoint_ptr endpoint;    // DEALER connected to the head
  std::shared_ptr<host::data_dir> data;  // node id and incarnation
  std::string name;
  msg::resources resources;
  msg::labels labels;
  std::vector<std::string> addresses;
  uint32_t register_retry_ms = 50;
  std::function<void(int exit_code)> request_exit;  // asks the daemon to stop
};

caf::actor spawn_node_agent(caf::actor_system& system, node_agent_deps deps);

}  // namespace troupe::node_agent
