// The head's security service: enrolls nodes that present a join token, makes join tokens and
// credentials, lists and revokes keys, and makes, lists and revokes application tokens (the
// security area of the protocol, messages/security.capnp).
// Each request names its senders: EnrollNodeRequest only from a join token's key (role enroll);
// every other request only from an admin key. Others get `permissionDenied`.
// A revoked key is refused from then on: the registry says so to the ZAP handler and to the
// wire endpoint, and the endpoint closes every connection so the key's own goes now.
// Runs detached: each change is written to the key file (fsync) before it is answered.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/security/app_tokens.hpp"
#include "cluster/security/key_registry.hpp"
#include "cluster/store/store.hpp"

namespace troupe::security_service {

struct security_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  std::shared_ptr<security::key_registry> keys;
  std::string head_public_key;
  std::string self_name;  // sender name in replies
  // Application tokens (the head's HTTP bearer tokens): stored, then put in the registry the
  // HTTP server checks.
  std::shared_ptr<store::cluster_store> store;
  std::shared_ptr<security::app_token_registry> app_tokens;
};

caf::actor spawn_security(caf::actor_system& system, security_deps deps);

}  // namespace troupe::security_service
