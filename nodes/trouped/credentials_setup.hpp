// The keys a daemon needs before any socket opens (docs/security.md):
//   head  — its key pair (head.key), the key registry (keys.jsonl), an admin credential for the CLI
//           on this machine (admin.credentials) and a valid join token (join-token), all in its
//           data dir with mode 0600; made at first start, kept after.
//   node  — its own credential (node.key): made once by enrolling with a join token, then the
//           token is not needed again.
#pragma once

#include <memory>
#include <string>

#include "cluster/security/credentials.hpp"
#include "cluster/security/key_registry.hpp"

namespace troupe::nodes {

// A setting or state that keeps the daemon from starting; the daemon exits 2.
struct setup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct head_security {
  security::key_pair head_keys;
  std::shared_ptr<security::key_registry> keys;
  std::string join_token_file;
  std::string join_token;
  std::string admin_credentials_file;
};

// Before the head's socket exists: its key pair, the registry, a usable join token.
head_security prepare_head_security(const std::string& data_dir);

// After the socket is bound: the admin credential, with `head_address` (where a CLI on this
// machine reaches the head) written into it.
void write_admin_credential(head_security& head, const std::string& data_dir,
                            const std::string& head_address);

// The head's own node agent: its node key, enrolled directly in the registry.
security::credential head_node_credential(const head_security& head, const std::string& data_dir,
                                          const std::string& node_id, const std::string& name,
                                          const std::string& head_address);

// A joining node's credential: node.key from the data dir, else enrolled now with `join_token`
// (bounded wait). Throws setup_error (no token, bad token) or security_error (no answer, refused).
security::credential node_credential(const std::string& data_dir, const std::string& join_token,
                                     const std::string& head_address, const std::string& node_id,
                                     const std::string& name);

}  // namespace troupe::nodes
