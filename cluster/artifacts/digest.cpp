#include "cluster/artifacts/digest.hpp"

#include <sodium/core.h>
#include <sodium/randombytes.h>
#include <sodium/utils.h>

#include <fstream>
#include <stdexcept>
#include <vector>

namespace troupe::artifacts {
namespace {

std::string hex(const unsigned char* bytes, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.pop_back();
  return out;
}

}  // namespace

bool is_sha256_hex(const std::string& text) {
  if (text.size() != 2 * crypto_hash_sha256_BYTES) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

sha256::sha256() {
  // Thread-safe and idempotent; picks the fastest implementations once per process.
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  crypto_hash_sha256_init(&state_);
}

void sha256::update(std::string_view bytes) {
  crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
}

std::string sha256::raw_digest() {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256_final(&state_, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string sha256::hex_digest() {
  const auto raw = raw_digest();
  return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string sha256_raw(std::string_view bytes) {
  sha256 hasher;
  hasher.update(bytes);
  return hasher.raw_digest();
}

std::string sha256_hex(std::string_view bytes) {
  sha256 h;
  h.update(bytes);
  return h.hex_digest();
}

std::optional<file_digest> digest_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  sha256 h;
  file_digest result;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    h.update({buffer.data(), n});
    result.size += n;
  }
  if (in.bad()) return std::nullopt;
  result.digest = h.hex_digest();
  return result;
}

std::string random_hex(size_t bytes) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  std::vector<unsigned char> random(bytes);
  randombytes_buf(random.data(), random.size());
  return hex(random.data(), random.size());
}

}  // namespace troupe::artifacts
