// The node's side of jobs: runs the task attempts the head sends (StartTaskRequest) with the
// task runner (cluster/runner), kills them when told (KillTaskRequest), and reports to the head:
// TaskStarted, TaskOutput chunks, and TaskFinished, resent until the head acknowledges it.
// A start that names an attempt running here (a standby) is kept and started the moment that
// attempt ends; killing a kept one reports its end without running it.
// Every second, and so after every registration with a (possibly restarted) head, it sends
// NodeTasks: the attempts it runs, the standbys it keeps and the ends not yet acknowledged, so
// the head can adopt, fence or retry them (docs/protocol.md). A launch with rank_link gets its
// rank key and credential file before it starts; they are revoked when it ends. A rank, replica
// or predict launch (argv[0] troupe-rank, troupe-replica, troupe-predict) runs the program of
// deps.programs_dir.
//   (shutdown_atom) -> bool: kills every task (the daemon stops), answered once they ended.
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/security/rank_link.hpp"

namespace troupe::runner {

struct runner_actor_deps {
  actors::wire_endpoint_ptr endpoint;  // DEALER connected to the head
  std::string tasks_dir;               // the node's data dir's task directory
  std::string self_name;               // sender name
  // Makes the rank link credentials of launches that ask for one; null: the node has no rank
  // link, and such a launch fails to start.
  std::shared_ptr<security::rank_link_issuer> rank_link;
  // Where Troupe's own programs are (the daemon's directory): a launch of troupe-rank,
  // troupe-replica or troupe-predict runs the one there rather than whatever PATH finds. Empty:
  // PATH finds it.
  std::string programs_dir;
  // The head's public key (Z85): a replica's prediction socket admits it alone
  // (TROUPE_HEAD_PUBLIC_KEY in a troupe-replica launch).
  std::string head_public_key;
  // The serve_ports setting (LOW-HIGH), passed to troupe-replica launches; empty: none.
  std::string serve_ports;
};

caf::actor spawn_runner_actor(caf::actor_system& system, runner_actor_deps deps);

}  // namespace troupe::runner
