// What the head accepts as a replica's prediction socket, as the replica's ReplicaReport names it
// (docs/protocol.md, Inference messages): checked before the head connects to it.
#pragma once

#include <cstddef>
#include <string>

namespace troupe::inference {

inline constexpr size_t max_prediction_endpoint_chars = 300;

// tcp://HOST:PORT: HOST a name or an address (letters, digits, '.', '-', '_'; an IPv6 address in
// brackets), no user or path; PORT 1 to 65535; at most max_prediction_endpoint_chars.
bool is_prediction_endpoint(const std::string& endpoint);

}  // namespace troupe::inference
