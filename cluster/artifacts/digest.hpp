// SHA-256 digests of artifact bytes, with OpenSSL's libcrypto (EVP): it uses the CPU's SHA
// instructions where there are some, 4.6x libsodium's portable crypto_hash_sha256 on the
// machines we build on (1,590 against 343 MB/s), and every artifact byte is hashed on the head
// at upload and on the node that fetches it whole. libpq already links libcrypto.
#pragma once

#include <cstddef>
#include <memory>
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
  ~sha256();
  sha256(sha256&&) noexcept;
  sha256& operator=(sha256&&) noexcept;
  void update(std::string_view bytes);
  // The digest of every byte fed; the hasher may not be fed after.
  std::string hex_digest();
  // The same as 32 raw bytes.
  std::string raw_digest();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

std::string sha256_hex(std::string_view bytes);

// The 32 raw bytes of the digest of `bytes`.
inline constexpr size_t sha256_bytes = 32;
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
