// SHA-256 by libsodium (crypto_hash_sha256): libzmq already brings libsodium for CURVE, so
// checkpoints and dataset fingerprints need no further library.
#pragma once

#include <string>
#include <string_view>

namespace troupe::training {

constexpr size_t sha256_size = 32;

// The 32-byte digest of `bytes`.
std::string sha256(std::string_view bytes);

// The digest as 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace troupe::training
