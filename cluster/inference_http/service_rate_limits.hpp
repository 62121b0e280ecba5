// The token buckets of the serve specs' `auth.rate_limit_per_s` and `auth.burst`: one per
// (caller, service), taken besides the caller's token's own bucket. Callers without a token (of a
// service whose tokens are optional) share one bucket per service. A bucket follows its
// service's policy: it starts again, full, when the policy's figures change.
//
// Thread-safe: the HTTP server's io threads take from it at once.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "cluster/inference/service_policy.hpp"
#include "cluster/security/app_tokens.hpp"

namespace troupe::inference_http {

class service_rate_limits {
 public:
  // Takes one call of `token` (a token's name; empty: no token) to the service `service` of
  // `tenant` under `policy`: nullopt when allowed (always, without a rate limit), else how long
  // until a call would be.
  std::optional<std::chrono::milliseconds> take(const std::string& token, const std::string& tenant,
                                                const std::string& service,
                                                const inference::auth_policy& policy,
                                                security::bucket_clock::time_point now);

 private:
  struct limited {
    double rate_per_s = 0;
    uint32_t burst = 0;
    security::token_bucket bucket;
  };
  std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string>, limited> buckets_;
};

}  // namespace troupe::inference_http
