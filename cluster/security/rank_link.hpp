// The rank link's credentials. A task attempt whose launch asks for a rank link
// (task_launch::rank_link) gets a key pair of role `rank` made by its node (rank_keys.hpp) and a
// credential file (credentials.hpp's format: its "head" is the node's rank link, an ipc://
// socket) in the node's rank directory (mode 0700; the file 0600). The rank's environment names
// the file in TROUPE_RANK_LINK, never the secret itself. When the attempt ends, its key is
// dropped and the file removed.
#pragma once

#include <memory>
#include <string>

#include "cluster/security/rank_keys.hpp"

namespace troupe::security {

inline constexpr const char* rank_link_variable = "TROUPE_RANK_LINK";
// The head's public key (Z85), which a node gives each replica of a serve job: the replica's
// prediction socket admits that key alone (nodes/replica/prediction_socket.hpp).
inline constexpr const char* head_public_key_variable = "TROUPE_HEAD_PUBLIC_KEY";

class rank_link_issuer {
 public:
  // Makes `dir` (0700) and removes credential files an earlier daemon left there. `endpoint`
  // and `node_public_key` are the rank link's.
  rank_link_issuer(std::shared_ptr<rank_keys> keys, std::string dir, std::string endpoint,
                   std::string node_public_key);

  // Makes the attempt's key pair and credential file; returns the file's path. Throws
  // security_error when the file cannot be written.
  std::string issue(const rank_attempt& attempt);
  // Drops the attempt's key and removes its file.
  void revoke(const std::string& attempt_id);

 private:
  std::string path_of(const std::string& attempt_id) const;

  std::shared_ptr<rank_keys> keys_;
  std::string dir_;
  std::string endpoint_;
  std::string node_public_key_;
};

// The rank link's socket in the node's rank directory `dir`.
std::string rank_link_endpoint(const std::string& dir);

}  // namespace troupe::security
