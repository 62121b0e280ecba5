// The head's job service: takes submitted jobs, keeps their life cycle, places them with the
// scheduler (actors/scheduler) and has the node daemons run their tasks (the jobs area of the
// protocol, messages/jobs.capnp; docs/jobs.md).
//
// Every state change is stored before it is answered or acted on: a submit is answered once
// the job is stored, a placement is stored before any node is told, and a restarted head
// recovers every job from the store and reconciles with what the nodes report (NodeTasks):
// tasks still running are adopted, tasks of superseded attempts are killed (fencing), tasks a
// node no longer has are retried. Late reports from a superseded attempt change nothing.
//
// Roles: admin sees and acts on every job; a submit key only on its own tenant's jobs; a node
// key reports only on attempts placed on its own node.
#pragma once

#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/store/store.hpp"

namespace troupe::job_service {

struct job_service_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  caf::actor store;                    // the store actor (the write-ahead queue)
  caf::actor membership;               // publishes node events
  // Loaded from the store at start.
  std::vector<store::job_record> jobs;
  std::vector<store::attempt_record> attempts;
  std::vector<store::job_transition> transitions;
  std::string log_dir;    // where the head keeps the tasks' output
  std::string self_name;  // sender name in replies
};

caf::actor spawn_job_service(caf::actor_system& system, job_service_deps deps);

}  // namespace troupe::job_service
