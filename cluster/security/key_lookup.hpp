// What authenticating a connection and its messages needs of a set of keys: the ZAP handler asks
// admit() at every CURVE handshake, the wire endpoint usable() at every message. Two sets
// implement it: the head's key registry (key_registry.hpp) and a node's rank keys
// (rank_keys.hpp). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "messages/security.hpp"

namespace troupe::security {

class key_lookup {
 public:
  virtual ~key_lookup() = default;
  // The key with this public key (Z85), if it may connect now.
  virtual std::optional<msg::key_info> admit(const std::string& public_key,
                                             int64_t now_ms) const = 0;
  // The key with this id, if it may speak now.
  virtual std::optional<msg::key_info> usable(const std::string& key_id, int64_t now_ms) const = 0;
};

}  // namespace troupe::security
