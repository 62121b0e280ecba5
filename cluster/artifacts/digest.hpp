// SHA-256 digests of artifact bytes, with libsodium's crypto_hash_sha256: libzmq already needs
// libsodium for CURVE, so hashing adds no dependency (OpenSSL would add one).
#pragma once

#include <sodium/crypto_hash_sha256.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::artifacts {

// A digest as 64 lowercase hex digits.
bool is_sha256_hex(const std::string& text);

// Hashes bytes fed in pieces.
class sha256 {
 public:
  sha256();
  void update(std::string_view bytes);
  // The digest of every byte fed; the hasher may not be fed after.
  std::string hex_digest();
  // The same as 32 raw bytes.
  std::string raw_digest();

 private:
  crypto_hash_sha256_state state_;
};

std::string sha256_hex(std::string_view bytes);

// The 32 raw bytes of the digest of `bytes`.
inline constexpr size_t sha256_bytes = crypto_hash_sha256_BYTES;
std::string sha256_raw(std::string_view bytes);

// The digest and size of a file, read in pieces; nullopt when it cannot be read.
struct file_digest {
  std::string digest;
  uint64_t size = 0;
};
std::optional<file_digest> digest_of_file(const std::string& path);

// `bytes` random bytes as lowercase hex (upload ids).
std::string random_hex(size_t bytes);

}  // namespace troupe::artifacts
