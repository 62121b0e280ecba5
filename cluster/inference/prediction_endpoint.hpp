// What the head accepts as a replica's prediction socket, as the replica's ReplicaReport names it
// (docs/protocol.md, Inference messages): checked before the head connects to it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace troupe::inference {

inline constexpr size_t max_prediction_endpoint_chars = 300;

// The HOST of tcp://HOST:PORT, or nullopt when `endpoint` is not one: HOST a name or an address
// (letters, digits, '.', '-', '_', starting with a letter or digit; an IPv6 address in brackets),
// no user or path; PORT 1 to 65535; at most max_prediction_endpoint_chars in all.
std::optional<std::string> prediction_endpoint_host(const std::string& endpoint);

}  // namespace troupe::inference
