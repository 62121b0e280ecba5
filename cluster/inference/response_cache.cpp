#include "cluster/inference/response_cache.hpp"

#include <cstring>

namespace troupe::inference {

response_cache::response_cache(cache_policy policy) : policy_(policy) {}

std::string response_cache::key_of(uint32_t version, uint32_t feature_count,
                                   const std::vector<float>& features) {
  std::string key(2 * sizeof(uint32_t) + features.size() * sizeof(float), '\0');
  std::memcpy(key.data(), &version, sizeof version);
  std::memcpy(key.data() + sizeof version, &feature_count, sizeof feature_count);
  if (!features.empty())
    std::memcpy(key.data() + 2 * sizeof(uint32_t), features.data(),
                features.size() * sizeof(float));
  return key;
}

void response_cache::erase(entries::iterator it) {
  by_key_.erase(by_key_.find(*it->key));
  used_.erase(it);
}

std::optional<prediction_result> response_cache::lookup(uint32_t version, uint32_t feature_count,
                                                        const std::vector<float>& features,
                                                        clock::time_point now) {
  auto found = by_key_.find(key_of(version, feature_count, features));
  if (found == by_key_.end()) return std::nullopt;
  auto it = found->second;
  if (now - it->stored >= std::chrono::seconds(policy_.ttl_s)) {
    erase(it);
    return std::nullopt;
  }
  used_.splice(used_.begin(), used_, it);
  return it->answer;
}

void response_cache::store(uint32_t version, uint32_t feature_count,
                           const std::vector<float>& features, prediction_result answer,
                           clock::time_point now) {
  if (policy_.entries == 0 || (kept_ && !kept_->count(version))) return;
  auto key = key_of(version, feature_count, features);
  if (auto found = by_key_.find(key); found != by_key_.end()) erase(found->second);
  while (by_key_.size() >= policy_.entries) erase(std::prev(used_.end()));
  auto placed = by_key_.emplace(std::move(key), used_.end()).first;
  used_.push_front({&placed->first, version, std::move(answer), now});
  placed->second = used_.begin();
}

void response_cache::keep_only(const std::set<uint32_t>& versions) {
  if (kept_ == versions) return;
  kept_ = versions;
  for (auto it = used_.begin(); it != used_.end();) {
    auto next = std::next(it);
    if (!versions.count(it->version)) erase(it);
    it = next;
  }
}

}  // namespace troupe::inference
