// Owns the store connection and performs every write on a detached thread, so that slow
// storage (PostgreSQL over the network, an fsync) never blocks the cooperative scheduler.
//   (store_atom, store::node_record) -> bool          upserts the node row
//   (store_atom, remove_atom, std::string id) -> bool  deletes the node row
// Errors come back as caf::error (sec::runtime_error with the store's message).
#pragma once

#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "cluster/store/store.hpp"

namespace troupe::actors {

caf::actor spawn_store_actor(caf::actor_system& system,
                             std::shared_ptr<store::membership_store> store);

}  // namespace troupe::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::store::node_record)
