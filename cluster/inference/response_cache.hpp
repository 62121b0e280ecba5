// A service's response cache on the head (the serve spec's `cache`: docs/jobs.md): the answers
// of its successful predictions, each under the version that gave it and the request's exact
// features, for `ttl_s` seconds, the `entries` most recently used ones. The service router
// chooses a request's version (its traffic split, its routing key) before it looks up, so that
// a cached answer never moves a caller to another version than the split gives it; and it keeps
// only the versions its service resolves to now, so that a promotion never answers from the old
// version's entries.
//
// Plain C++, one thread (the router's); `now` is the caller's clock, so tests need no sleeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/inference/predictor.hpp"

namespace troupe::inference {

class response_cache {
 public:
  using clock = std::chrono::steady_clock;

  explicit response_cache(cache_policy policy);

  // The answer kept for these features of `version`, unless it is older than the ttl (then it
  // is dropped). A hit becomes the most recently used entry.
  std::optional<prediction_result> lookup(uint32_t version, uint32_t feature_count,
                                          const std::vector<float>& features,
                                          clock::time_point now);
  // Keeps `answer` (a successful one), dropping the least recently used entry when full.
  void store(uint32_t version, uint32_t feature_count, const std::vector<float>& features,
             prediction_result answer, clock::time_point now);
  // Drops the entries of every version not in `versions`, and keeps no answer of one from now
  // on (a reply still on its way). Cheap when the versions did not change (called at every
  // replica's resolution).
  void keep_only(const std::set<uint32_t>& versions);

  size_t size() const { return by_key_.size(); }

 private:
  struct entry {
    const std::string* key = nullptr;  // its key in by_key_ (a node's key stays put)
    uint32_t version = 0;
    prediction_result answer;
    clock::time_point stored;
  };
  using entries = std::list<entry>;  // the most recently used first

  static std::string key_of(uint32_t version, uint32_t feature_count,
                            const std::vector<float>& features);
  void erase(entries::iterator it);

  cache_policy policy_;
  entries used_;
  std::unordered_map<std::string, entries::iterator> by_key_;
  std::optional<std::set<uint32_t>> kept_;  // none: not told yet, every version is kept
};

}  // namespace troupe::inference
