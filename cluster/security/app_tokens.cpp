#include "cluster/security/app_tokens.hpp"

#include <sodium/randombytes.h>
#include <sodium/utils.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "cluster/artifacts/digest.hpp"

namespace troupe::security {

std::string new_app_token_secret() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return std::string("troupe_") + hex;
}

std::string app_token_digest(const std::string& secret) { return artifacts::sha256_hex(secret); }

std::optional<std::string> app_token_name_problem(const std::string& name) {
  const bool fits = !name.empty() && name.size() <= 64 &&
                    std::all_of(name.begin(), name.end(), [](unsigned char c) {
                      return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                    });
  if (fits) return std::nullopt;
  return "a token's name is 1 to 64 characters of [A-Za-z0-9._-]";
}

token_bucket::token_bucket(double rate_per_s, double burst, bucket_clock::time_point now)
    : rate_(rate_per_s), burst_(burst), tokens_(burst), last_(now) {}

std::optional<std::chrono::milliseconds> token_bucket::take(bucket_clock::time_point now) {
  if (now > last_) {
    const std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    last_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return std::nullopt;
  }
  const auto wait_ms = std::ceil((1 - tokens_) / rate_ * 1000);
  return std::chrono::milliseconds(static_cast<int64_t>(wait_ms));
}

void app_token_registry::load(const std::vector<store::app_token_record>& tokens,
                              bucket_clock::time_point now) {
  for (const auto& t : tokens) put(t, now);
}

void app_token_registry::put(const store::app_token_record& token, bucket_clock::time_point now) {
  entry e{token, std::nullopt};
  if (token.rate_limit_per_s > 0)
    e.bucket.emplace(token.rate_limit_per_s, std::max<uint32_t>(1, token.burst), now);
  std::lock_guard<std::mutex> lock(mutex_);
  by_digest_.insert_or_assign(token.secret_sha256, std::move(e));
}

app_token_check app_token_registry::check(const std::string& secret, msg::app_token_role role,
                                          bucket_clock::time_point now) {
  app_token_check out;
  if (secret.empty()) return out;
  const auto digest = app_token_digest(secret);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_digest_.find(digest);
  if (it == by_digest_.end()) return out;
  auto& e = it->second;
  out.grant = {e.record.name, e.record.tenant};
  using outcome = app_token_check::outcome;
  if (e.record.revoked_at_ms) {
    out.result = outcome::revoked;
    return out;
  }
  const auto has = msg::parse_app_token_role(e.record.role);
  if (!has || (*has != role && *has != msg::app_token_role::manage)) {
    out.result = outcome::wrong_role;
    return out;
  }
  if (e.bucket) {
    if (auto wait = e.bucket->take(now)) {
      out.result = outcome::rate_limited;
      out.retry_after = *wait;
      return out;
    }
  }
  out.result = outcome::allowed;
  return out;
}

msg::app_token_info to_info(const store::app_token_record& r) {
  msg::app_token_info info;
  info.name = r.name;
  info.role = msg::parse_app_token_role(r.role).value_or(msg::app_token_role::predict);
  info.tenant = r.tenant;
  info.rate_limit_per_s = r.rate_limit_per_s;
  info.burst = r.burst;
  info.created_at_ms = r.created_at_ms;
  info.revoked_at_ms = r.revoked_at_ms;
  return info;
}

}  // namespace troupe::security
