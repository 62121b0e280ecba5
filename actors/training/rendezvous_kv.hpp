// The head's rendezvous spaces: one key-value space per job attempt generation, where the ranks
// of one round of a gang job exchange what their collectives backend needs (c10d store entries,
// an NCCL unique id). Plain C++ (no actors, no sockets): the training service drives it with
// the clock and answers the waiters it returns.
//
// A generation is a job id and its round (the attempt number every task of one placement
// shares). The first request of a newer round of a job drops the job's older spaces, answering
// their waiters `conflict`; a request for an older round than the job's newest is refused the
// same way. get() of a key not set yet waits, bounded by its deadline, until a set() answers
// it. Sizes, key counts and waiters are bounded per space; a space nobody used for an hour,
// with nobody waiting, is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "messages/error.hpp"

namespace troupe::training {

using clock = std::chrono::steady_clock;

struct generation {
  std::string job_id;
  uint32_t round = 0;
};

struct rendezvous_limits {
  size_t max_key_bytes = 512;
  size_t max_value_bytes = 64 * 1024;
  size_t max_keys = 1024;               // per space
  size_t max_space_bytes = 4 << 20;     // keys and values of one space
  size_t max_waiters = 1024;            // per space
  uint32_t max_timeout_ms = 600'000;    // a get waits at most this long
  std::chrono::minutes idle_limit{60};  // an unused space is dropped after this
};

// Chosen by the caller, unique among the waiting gets.
using waiter_id = uint64_t;

// The answer to a waiting get: the value, or why there is none.
struct answer {
  waiter_id waiter = 0;
  std::variant<std::string, msg::error> result;
};

struct waiting {};  // get()'s result when the waiter now waits

class rendezvous_kv {
 public:
  explicit rendezvous_kv(rendezvous_limits limits = {});

  // Sets `key` in g's space (replacing its value); returns the waiters this answers.
  std::variant<std::vector<answer>, msg::error> set(const generation& g, const std::string& key,
                                                    std::string value, clock::time_point now);
  // The value of `key` in g's space; or `waiting`, when `waiter` now waits for it for
  // `timeout_ms`; or why not.
  std::variant<std::string, waiting, msg::error> get(const generation& g, const std::string& key,
                                                     uint32_t timeout_ms, waiter_id waiter,
                                                     clock::time_point now);
  // Every answer due by `now`: waiters whose deadline passed (`timeout`), and those of spaces
  // a newer round superseded. Drops idle spaces.
  std::vector<answer> take_due(clock::time_point now);
  // When take_due() next has a timeout to report.
  std::optional<clock::time_point> next_deadline() const;

  size_t spaces() const { return spaces_.size(); }

 private:
  struct waiter {
    waiter_id id = 0;
    std::string key;
    clock::time_point deadline;
  };
  struct space {
    std::map<std::string, std::string> values;
    size_t bytes = 0;
    std::vector<waiter> waiters;
    clock::time_point last_used;
  };
  using space_key = std::pair<std::string, uint32_t>;

  // g's space, made when new (dropping the job's older rounds); or why it may not be used.
  std::variant<space*, msg::error> open(const generation& g, clock::time_point now);

  rendezvous_limits limits_;
  std::map<space_key, space> spaces_;
  std::map<std::string, uint32_t> newest_round_;  // per job with a space
  std::vector<answer> superseded_;                // answers for take_due()
};

}  // namespace troupe::training
