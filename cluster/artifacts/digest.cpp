#include "cluster/artifacts/digest.hpp"

#include <openssl/evp.h>
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

// Fetched once: an implicit fetch on every init costs a lookup per 64 KiB block.
const EVP_MD* sha256_method() {
  static const EVP_MD* method = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!method) throw std::runtime_error("libcrypto has no SHA-256");
  return method;
}

}  // namespace

struct sha256::state {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

bool is_sha256_hex(const std::string& text) {
  if (text.size() != 2 * sha256_bytes) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

sha256::sha256() : state_(std::make_unique<state>()) {
  if (!state_->context || EVP_DigestInit_ex(state_->context.get(), sha256_method(), nullptr) != 1)
    throw std::runtime_error("libcrypto cannot start a SHA-256");
}

sha256::~sha256() = default;
sha256::sha256(sha256&&) noexcept = default;
sha256& sha256::operator=(sha256&&) noexcept = default;

void sha256::update(std::string_view bytes) {
  // Fails only on a context that was never initialised, which the constructor rules out.
  EVP_DigestUpdate(state_->context.get(), bytes.data(), bytes.size());
}

std::string sha256::raw_digest() {
  std::string out(sha256_bytes, '\0');
  unsigned int size = 0;
  EVP_DigestFinal_ex(state_->context.get(), reinterpret_cast<unsigned char*>(out.data()), &size);
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
