// A replica's dynamic batcher: requests for one model version are joined into forward passes,
// then each is answered with exactly its own rows. Plain C++ over an abstract forward function,
// so that it is tested without torch.
//
// Its caller drives it, on a thread of its own choosing: it submits the requests it has, then
// calls run_waiting(), which runs passes over every waiting request until none waits. The replica
// does both on its prediction socket's thread (no hand-off to a worker, no wake-up): it submits
// every request one read of the socket gave it, then runs them, and the requests that arrived
// during those passes are the next read's. So a request waits for the model, never for others
// (the bound `max_delay_ms` sets on that wait always holds), and batches grow with the load by
// themselves. A pass takes waiting requests in arrival order while their rows fit in `max_batch`
// (a request of more rows than that runs alone); a pass of one request runs on its rows as they
// are, without a copy. submit() and waiting() are thread-safe; run_waiting() runs on one thread
// at a time. Every request's `done` is called exactly once: by run_waiting(), or by the
// destructor with an error for a request that never ran.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/inference/serve_spec.hpp"

namespace troupe::inference {

// What one forward pass or one request gets back: rows × output_count values, or an error.
struct forward_output {
  std::string error;  // set: nothing below is
  uint32_t output_count = 0;
  std::vector<float> outputs;
};

// Runs the model over `rows` rows of the batcher's feature count (row-major). May throw: the
// exception's what() becomes every request's error.
using forward_fn = std::function<forward_output(const std::vector<float>& inputs, uint32_t rows)>;

class dynamic_batcher {
 public:
  dynamic_batcher(batching_policy policy, uint32_t feature_count, forward_fn forward);
  ~dynamic_batcher();
  dynamic_batcher(const dynamic_batcher&) = delete;
  dynamic_batcher& operator=(const dynamic_batcher&) = delete;

  // Queues a request; nothing runs until run_waiting(). `features` holds `rows` rows of
  // feature_count() values; the caller checked that.
  void submit(std::vector<float> features, uint32_t rows, std::function<void(forward_output)> done);
  // Runs passes, in arrival order, until no request waits (those submitted meanwhile included).
  void run_waiting();

  uint32_t feature_count() const { return feature_count_; }
  // Requests waiting now.
  size_t waiting() const;

 private:
  struct request {
    std::vector<float> features;
    uint32_t rows = 0;
    std::function<void(forward_output)> done;
  };

  // Takes the next pass's requests off the queue (none: nothing waits).
  std::vector<request> next_pass();
  void run_pass(std::vector<request>& batch);
  // The model over `rows` rows; a model's exception or a wrong count of values is the error.
  forward_output forward(const std::vector<float>& inputs, uint32_t rows) const;

  const batching_policy policy_;
  const uint32_t feature_count_;
  const forward_fn forward_;
  mutable std::mutex mutex_;
  std::deque<request> queue_;
};

// Turns each row of logits into probabilities, in place (a numerically stable softmax).
void softmax_rows(std::vector<float>& values, uint32_t per_row);

}  // namespace troupe::inference
