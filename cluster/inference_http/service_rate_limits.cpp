#include "cluster/inference_http/service_rate_limits.hpp"

#include <algorithm>

namespace troupe::inference_http {

std::optional<std::chrono::milliseconds> service_rate_limits::take(
    const std::string& token, const std::string& tenant, const std::string& service,
    const inference::auth_policy& policy, security::bucket_clock::time_point now) {
  if (policy.rate_limit_per_s <= 0) return std::nullopt;
  const auto burst = std::max<uint32_t>(1, policy.burst);
  std::lock_guard<std::mutex> lock(mutex_);
  auto key = std::make_tuple(token, tenant, service);
  auto it = buckets_.find(key);
  if (it == buckets_.end() || it->second.rate_per_s != policy.rate_limit_per_s ||
      it->second.burst != burst)
    it = buckets_
             .insert_or_assign(std::move(key),
                               limited{policy.rate_limit_per_s, burst,
                                       security::token_bucket(policy.rate_limit_per_s, burst, now)})
             .first;
  return it->second.bucket.take(now);
}

}  // namespace troupe::inference_http
