// The head's predictions on their way to the replicas of serve jobs, shared by the threads that
// ask for them (the HTTP server's; the service router's, for protocol clients) and the socket
// threads of the head's links to the replicas' prediction sockets, which bring the answers. A
// prediction goes from the thread that asks straight to its replica's link, and the replica's
// answer from the link's thread straight to the caller's callback: no hop through the router
// actor, whose thread would wake twice for every request. The router keeps the service table
// up to date through the desk (with_table), links and unlinks the replicas, and sweeps it.
//
// A request is checked, routed by the service table (service_table.hpp), and answered from the
// service's response cache when that holds these features of the version chosen; else sent to
// the replica. A request the replica answers with an error other than invalidRequest, leaves
// unanswered for 5 s, or whose replica is unlinked first, is tried once more on another
// replica, else answered `unavailable`. A replica's answer is kept in the cache.
//
// Thread-safe: one mutex guards the table, the waiting predictions and the caches, and the links
// have their own (taken within it, never around it); callbacks run outside both.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/inference/replica_links.hpp"
#include "actors/inference/service_table.hpp"
#include "cluster/inference/predictor.hpp"
#include "cluster/inference/response_cache.hpp"
#include "cluster/metrics/serving_figures.hpp"

namespace troupe::inference {

class prediction_desk {
 public:
  using done_fn = std::function<void(prediction_result)>;
  using clock = std::chrono::steady_clock;

  static constexpr auto replica_wait = std::chrono::seconds(5);
  static constexpr uint32_t most_features = 65'536;
  static constexpr uint32_t most_rows = 4096;

  // `keys`: the head's key pair, with which it connects to the replicas' prediction sockets
  // (none: plain TCP, tests of the transport only); `limits`: of the replicas' answers;
  // `self_name`: the sender named in the requests.
  prediction_desk(std::optional<transport::curve_keys> keys, msg::decode_limits limits,
                  std::string self_name, std::shared_ptr<metrics::cache_counters> cache_lookups,
                  uint64_t seed);
  prediction_desk(const prediction_desk&) = delete;  // the links' threads hold `this`
  prediction_desk& operator=(const prediction_desk&) = delete;

  // Any thread; `done` is called exactly once, on this thread or a link's.
  void predict(prediction_request request, done_fn done);

  // Runs `f(table)` under the lock and returns what it returns; `f` must not call the desk.
  template <class F>
  decltype(auto) with_table(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    return f(table_);
  }

  // Connects to the replica's prediction socket at `endpoint`, whose key is `public_key`, unless
  // its link goes there already; what waited on a link it had elsewhere is asked of another
  // replica. Throws zmq::error_t when libzmq refuses the address.
  void link(const std::string& attempt_id, const std::string& endpoint,
            const std::string& public_key);
  // Closes the replica's link; what waits for it is asked of another replica at once.
  void unlink(const std::string& attempt_id, const std::string& why);
  // The service of `job_id` keeps a cache by `policy` that answers only for `versions`.
  void keep_cache(const std::string& job_id, const cache_policy& policy,
                  const std::set<uint32_t>& versions);
  // Predictions left unanswered for replica_wait are tried again or answered; the caches of
  // services that no longer run are dropped.
  void sweep(clock::time_point now);

 private:
  struct pending {
    prediction_request request;
    done_fn done;
    route to;
    std::string failed;  // why the first replica asked did not answer; empty: not retried
    clock::time_point give_up;
  };
  // Callbacks with their answers, called once the lock is let go.
  using answers = std::vector<std::pair<done_fn, prediction_result>>;

  // Under the lock: sends `p` to a replica (another than `avoid`), or answers it with why not.
  void dispatch(pending p, const std::string& avoid, answers& out);
  void replica_failed(pending p, const std::string& why, answers& out);
  bool answered_from_cache(pending& p, answers& out);
  // Under the lock: every waiting prediction `gone` picks is taken off and its replica failed.
  void fail_waiting(const std::function<bool(const pending&)>& gone, const std::string& why,
                    answers& out);
  void retry_waiting_on(const std::string& attempt_id, const std::string& why);
  // On a link's thread: the replica's answer (a reply or an error) to a prediction sent it.
  void from_replica(const std::string& attempt_id, msg::envelope env);

  const std::string self_name_;
  std::shared_ptr<metrics::cache_counters> cache_lookups_;
  std::mutex mutex_;
  service_table table_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, pending> waiting_;  // by the request id sent to the replica
  std::map<std::string, response_cache> caches_;   // by job id, of services with a cache
  replica_links links_;                            // last: its threads call from_replica
};

}  // namespace troupe::inference
