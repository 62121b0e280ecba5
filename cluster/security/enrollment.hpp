// A joining node's one request with a join token: its own new public key bound to its node id.
#pragma once

#include <chrono>
#include <string>

#include "cluster/security/curve_keys.hpp"

namespace troupe::security {

// Sends EnrollNodeRequest{node_id, public_key, name} to the head at `head_address` with the
// token's enroll key and waits up to `timeout`. Returns the new key's id; throws security_error
// when the head did not answer (the token may have expired, or the head is unreachable), refused,
// or answered with something else.
std::string enroll_node(const std::string& head_address, const join_token& token,
                        const std::string& node_id, const std::string& public_key,
                        const std::string& name, std::chrono::milliseconds timeout);

}  // namespace troupe::security
