// What a `serve` job's spec says about who may call its service and what the head keeps of its
// answers (docs/jobs.md, "Fields of serve"): plain values, read by the head's HTTP endpoints and
// its service router.
#pragma once

#include <cstdint>

namespace troupe::inference {

// tokens_required: every HTTP call needs a bearer token of role predict (`tokens: required`);
// otherwise one without a token is served too (`tokens: optional`), and a presented token is
// checked as usual. rate_limit_per_s (0: none) and burst size a token bucket per (token,
// service), taken besides the token's own; calls without a token share one bucket.
struct auth_policy {
  bool tokens_required = true;
  double rate_limit_per_s = 0;
  uint32_t burst = 0;
  bool operator==(const auth_policy& o) const {
    return tokens_required == o.tokens_required && rate_limit_per_s == o.rate_limit_per_s &&
           burst == o.burst;
  }
};

// A response cache of the head (0 entries: none): at most `entries` answers, each used for
// `ttl_s` seconds.
struct cache_policy {
  uint64_t entries = 0;
  uint32_t ttl_s = 60;
  bool operator==(const cache_policy& o) const { return entries == o.entries && ttl_s == o.ttl_s; }
};

}  // namespace troupe::inference
