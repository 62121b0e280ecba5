#include "cluster/training/checksum.hpp"

#include <sodium.h>

namespace troupe::training {

std::string sha256(std::string_view bytes) {
  static_assert(crypto_hash_sha256_BYTES == sha256_size);
  std::string digest(sha256_size, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return digest;
}

std::string sha256_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : sha256(bytes)) {
    hex += digits[c >> 4];
    hex += digits[c & 0xf];
  }
  return hex;
}

}  // namespace troupe::training
