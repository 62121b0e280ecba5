// The head's side of RegisterModelRequest (docs/models.md, docs/protocol.md): task 0 of a train
// job registers the model it trained, relayed by the node its attempt runs on (the training
// service checked that, training_service.hpp). Everything but the metrics and the dataset
// fingerprint comes from the job: the name is its spec's output.model_name, the tenant and job
// id are its own, the parameters its train spec as JSON. The digest must be that of a model
// artifact the job published in its tenant. The registry stores the version (idempotent per
// job: a second registration gets the version the first got).
//   task 1 and up, or a job of another kind: permissionDenied
//   a digest that is no model artifact of the job: notFound
#pragma once

#include <functional>

#include <caf/fwd.hpp>

#include "actors/jobs/job_service.hpp"
#include "messages/envelope.hpp"

namespace troupe::training {

struct model_registration_deps {
  caf::actor artifacts;  // the artifact service (artifact_service.hpp)
  caf::actor models;     // the model registry actor (registry_actor.hpp)
};

// Registers `r` for the attempt `attempt` is the view of, then calls `answer` once with the
// reply or the error.
void register_model(caf::event_based_actor* self, const model_registration_deps& deps,
                    const job_service::job_view& attempt, const msg::register_model_request& r,
                    std::function<void(msg::body)> answer);

}  // namespace troupe::training
