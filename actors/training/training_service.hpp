// The head's training service: the rendezvous of training jobs' ranks (rendezvous_kv.hpp) and
// their metrics. Ranks reach it through their node (rank_relay.hpp); the node's key must be
// that of the node the attempt was placed on, and the attempt must be of its job's current
// round and not ended (the job service says, job_service.hpp's job_view): else
// permissionDenied, or conflict for an attempt that ended or was superseded.
//   RendezvousSetRequest -> RendezvousSetReply, and answers the gets waiting for that key
//   RendezvousGetRequest -> RendezvousGetReply once the key is set, or error timeout
//   MetricsReport (one-way): kept per job, numbered in arrival order, at most 100,000 per job
//   (older ones are forgotten); in memory only, so a restarted head has none
//   JobMetricsRequest (admin; submit: its tenant's jobs, else notFound) -> JobMetricsReply
//   RegisterModelRequest -> RegisterModelReply (model_registration.hpp)
#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/training/model_registration.hpp"
#include "actors/training/rendezvous_kv.hpp"
#include "actors/transport/wire_endpoint.hpp"

namespace troupe::training {

struct training_service_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  caf::actor jobs;                     // the job service
  rendezvous_limits limits;
  std::string self_name;  // sender name in replies
  model_registration_deps registration;
};

caf::actor spawn_training_service(caf::actor_system& system, training_service_deps deps);

}  // namespace troupe::training
