// Credential files: a key pair with its role, the head's public key, and where the head is.
// The CLI reads one (`admin.credentials`, or a file from `troupe credentials create`); every
// node keeps its own as `node.key` in its data dir; a rank process reads the one its node made
// for its attempt (rank_link.hpp: there the "head" is the node's rank link). JSON, mode 0600,
// replaced atomically:
//   {"role": "admin", "key_id": "…", "public_key": "…", "secret_key": "…",
//    "head_public_key": "…", "head_address": "tcp://HOST:PORT"}
// A file that others may read is refused, as ssh refuses an unprotected private key.
#pragma once

#include <string>

#include "cluster/security/curve_keys.hpp"
#include "cluster/transport/socket_loop.hpp"
#include "messages/security.hpp"

namespace troupe::security {

struct credential {
  msg::key_role role = msg::key_role::admin;
  std::string key_id;
  key_pair keys;
  std::string head_public_key;
  std::string head_address;  // may be empty: the user names the head
};

// A credential with a fresh key pair.
credential new_credential(msg::key_role role, std::string head_public_key,
                          std::string head_address);

void save_credential(const std::string& path, const credential& c);
// Throws security_error naming the file and what is wrong with it (never the secret).
credential load_credential(const std::string& path);

// The keys a client connects to the head with: its own pair and the head's public key.
transport::curve_keys client_keys(const credential& c);
// A join token's enroll key pair, for the one EnrollNodeRequest it may send.
transport::curve_keys client_keys(const join_token& token);

// "admin" -> key_role::admin; throws security_error for an unknown role.
msg::key_role parse_role(const std::string& name);

}  // namespace troupe::security
