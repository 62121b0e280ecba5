// The node agent: registers this node with the head and heartbeats while registered, by
// agent_protocol's rules (agent_protocol.hpp draws its state machine); the actor sends,
// logs and keeps its timer.
//   (shutdown_atom): stops registering and heartbeating, sends DeregisterNode for the current
//   incarnation (also when a registration is still unanswered), replies when it is queued.
//   A stale incarnation, or a data dir that cannot store a new incarnation, stops the daemon
//   (exit code 1).
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
  std::shared_ptr<host::data_dir> data;  // where later incarnations are taken
  std::string node_id;
  uint64_t incarnation = 0;  // this start's incarnation, already stored
  std::string name;
  msg::resources resources;
  msg::labels labels;
  std::vector<std::string> addresses;
  uint32_t register_retry_ms = 50;
  std::function<void(int exit_code)> request_exit;  // asks the daemon to stop
};

caf::actor spawn_node_agent(caf::actor_system& system, node_agent_deps deps);

}  // namespace troupe::node_agent
