#include "cluster/artifacts/block_checksum.hpp"

#include <xxhash.h>

#include <new>

namespace troupe::artifacts {
namespace {

std::string canonical(XXH128_hash_t hash) {
  XXH128_canonical_t out;
  XXH128_canonicalFromHash(&out, hash);
  return {reinterpret_cast<const char*>(out.digest), sizeof out.digest};
}

}  // namespace

struct block_checksum::state {
  XXH3_state_t* xxh = XXH3_createState();
  state() {
    if (!xxh) throw std::bad_alloc();
    XXH3_128bits_reset(xxh);
  }
  ~state() { XXH3_freeState(xxh); }
  state(const state&) = delete;
  state& operator=(const state&) = delete;
};

block_checksum::block_checksum() : state_(std::make_unique<state>()) {}
block_checksum::~block_checksum() = default;
block_checksum::block_checksum(block_checksum&&) noexcept = default;
block_checksum& block_checksum::operator=(block_checksum&&) noexcept = default;

void block_checksum::update(std::string_view piece) {
  XXH3_128bits_update(state_->xxh, piece.data(), piece.size());
}

std::string block_checksum::take() {
  auto sum = canonical(XXH3_128bits_digest(state_->xxh));
  XXH3_128bits_reset(state_->xxh);
  return sum;
}

std::string block_checksum::of(std::string_view block) {
  return canonical(XXH3_128bits(block.data(), block.size()));
}

}  // namespace troupe::artifacts
