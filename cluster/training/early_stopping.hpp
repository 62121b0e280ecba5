// Stops training once a metric has not improved for `patience` epochs in a row. An epoch
// improves when its value beats the best so far by more than min_delta (below it for mode
// min, above it for mode max); the first epoch always does.
#pragma once

#include <cstdint>

#include "cluster/training/train_spec.hpp"

namespace troupe::training {

class early_stopping {
 public:
  // What a checkpoint keeps, so that a resumed run stops where an unbroken one would.
  struct state {
    bool has_best = false;
    double best = 0.0;
    int64_t epochs_without_improvement = 0;
  };

  explicit early_stopping(early_stopping_spec spec) : spec_(std::move(spec)) {}

  // After each epoch, with its value of the metric: true when training should stop now.
  bool should_stop(double value);

  const state& current() const { return state_; }
  void restore(const state& saved) { state_ = saved; }

 private:
  early_stopping_spec spec_;
  state state_;
};

}  // namespace troupe::training
