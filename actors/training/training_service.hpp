// The head's training service: the rendezvous of training jobs' ranks (rendezvous_kv.hpp) and
// their metrics. Ranks reach it through their node (rank_relay.hpp); the node's key must be
// that of the node the attempt was placed on, and the attempt must be of its job's current
// round and not ended (the job service says, job_service.hpp's job_view): else
// permissionDenied, or conflict for an attempt that ended or was superseded.
//   RendezvousSetRequest -> RendezvousSetReply, and answers the gets waiting for that key
//   RendezvousGetRequest -> RendezvousGetReply once the key is set, or error timeout
//   MetricsReport (one-way): numbered per job in arrival order and stored (metrics_keeper.hpp), on
//   a thread of its own: a store that is slow or down never holds up the rendezvous
//   JobMetricsRequest (admin; submit: its tenant's jobs, else notFound) -> JobMetricsReply, read
//   from the store (and what waits to be stored), or unavailable when the store cannot be read
//   RegisterModelRequest -> RegisterModelReply (model_registration.hpp)
//   AssembleDatasetRequest -> AssembleDatasetReply: the artifact service joins the job's parts
//   (artifact_service.hpp) with the attempt's tenant and job id, within the request's timeoutMs
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/training/metrics_keeper.hpp"
#include "actors/training/model_registration.hpp"
#include "actors/training/rendezvous_kv.hpp"
#include "actors/transport/wire_endpoint.hpp"
#include "cluster/store/store.hpp"

namespace troupe::training {

struct training_service_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  caf::actor jobs;                     // the job service
  std::shared_ptr<store::cluster_store> store;
  rendezvous_limits limits;
  metrics_settings metrics;
  std::string self_name;  // sender name in replies
  model_registration_deps registration;
  caf::actor artifacts;  // the artifact service: assembles datasets
};

caf::actor spawn_training_service(caf::actor_system& system, training_service_deps deps);

}  // namespace troupe::training
