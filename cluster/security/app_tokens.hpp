// Application tokens: the bearer tokens of the head's HTTP inference endpoints (docs/http.md),
// distinct from the CURVE keys of the control plane. A token is "troupe_" and 64 hex digits of
// 32 random bytes; only its SHA-256 is kept (the store, this registry), so a token is shown
// once, when it is made, and never again. Each token has a token bucket of its own, in memory.
//
// Thread-safe: the security service adds and revokes while HTTP threads check.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/store/store.hpp"
#include "messages/security.hpp"

namespace troupe::security {

using bucket_clock = std::chrono::steady_clock;

// A new token's secret; and the digest that stands for it.
std::string new_app_token_secret();
std::string app_token_digest(const std::string& secret);

// Why `name` cannot name a token (1 to 64 characters of [A-Za-z0-9._-]), or nullopt.
std::optional<std::string> app_token_name_problem(const std::string& name);

// Allows `rate_per_s` calls a second on average and bursts of up to `burst`. Starts full.
class token_bucket {
 public:
  token_bucket(double rate_per_s, double burst, bucket_clock::time_point now);
  // Takes one call's token: nullopt when there was one, else how long until there is.
  std::optional<std::chrono::milliseconds> take(bucket_clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  bucket_clock::time_point last_;
};

struct app_token_grant {
  std::string name;
  std::string tenant;  // empty: every tenant
};

// What a check of a presented token found.
struct app_token_check {
  enum class outcome {
    allowed,
    unknown,       // no such token (or none presented): 401
    revoked,       // 401
    wrong_role,    // the token may not call this: 403
    rate_limited,  // over its bucket: 429 with retry_after
  };
  outcome result = outcome::unknown;
  app_token_grant grant;                     // when allowed
  std::chrono::milliseconds retry_after{0};  // when rate_limited
};

class app_token_registry {
 public:
  // Every token of the store (revoked ones are kept, as revoked).
  void load(const std::vector<store::app_token_record>& tokens, bucket_clock::time_point now);
  // Adds a token, or replaces the one with its digest (a revoked one: as the store revoked it).
  void put(const store::app_token_record& token, bucket_clock::time_point now);
  // Checks `secret` for a call that needs `role` (manage may do what predict may); an allowed
  // call takes from the token's bucket.
  app_token_check check(const std::string& secret, msg::app_token_role role,
                        bucket_clock::time_point now);

 private:
  struct entry {
    store::app_token_record record;
    std::optional<token_bucket> bucket;  // none: unlimited
  };
  std::mutex mutex_;
  std::unordered_map<std::string, entry> by_digest_;
};

// The wire's view of a stored token (without its digest).
msg::app_token_info to_info(const store::app_token_record& record);

}  // namespace troupe::security
