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
//
// Other head actors ask about a job or an attempt (the training service checks that a node
// relays for an attempt it runs):
//   (attempt_atom, attempt id) -> job_view      (job_atom, job id) -> job_view
// and may watch attempts end (the service router drops a replica whose process is gone):
//   (subscribe_atom, actor): from then on the actor gets (ended_atom, attempt id) as the
//   service learns that an attempt ended (reported by its node, or lost with it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
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

// A job, and for an attempt query the attempt, as the service knows them now.
struct job_view {
  bool known = false;  // the service knows the job (and the attempt, when asked about one)
  std::string job_id;
  std::string tenant;
  std::string name;
  std::string kind;
  std::string spec_json;  // the validated spec (cluster/jobs/job_spec.hpp's to_json)
  std::string state;      // the job's, e.g. "RUNNING"
  // The attempt's number, which every task of its gang's round shares; an independent task's
  // attempts count on their own.
  uint32_t round = 0;
  std::string node_id;
  std::string node_address;  // the address that node registered with (an attempt query)
  bool current = false;      // of the job's latest round, not ended, and the job has not ended
};

}  // namespace troupe::job_service

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::job_service::job_view)
