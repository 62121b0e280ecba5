// The head's model registry actor: serves the models area of the protocol
// (messages/models.capnp, routed from keys of roles admin and submit) and registrations from
// inside the head, through the registry service (cluster/models/registry.hpp).
//   (register_atom, models::registration) -> models::registration_result
//       the version the train job's model got (answered once stored), or why none
// Runs detached: every request calls the store and waits for it.
#pragma once

#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/models/registry.hpp"
#include "cluster/store/store.hpp"

namespace troupe::model_registry {

struct registry_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  std::shared_ptr<store::cluster_store> store;
  std::string self_name;  // sender name in replies
};

caf::actor spawn_model_registry(caf::actor_system& system, registry_deps deps);

}  // namespace troupe::model_registry

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::models::registration)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::models::registration_result)
