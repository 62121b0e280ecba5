// What `troupe submit --wait` shows of a train job while it runs, from the metrics its rank 0
// reports (training.capnp's MetricEntry): the epoch out of the spec's `epochs`, the latest step,
// its loss, and an ETA once an epoch has ended (from the steps an epoch took and the step rate
// since the attempt's first report). A retried attempt starts its own figures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "messages/training.hpp"

namespace troupe::cli {

class train_progress {
 public:
  explicit train_progress(uint32_t epochs) : epochs_(epochs) {}

  void add(const msg::metric_entry& entry);
  // "epoch 2/5  step 120  loss 0.4123  ETA 14.0s" (ETA - until an epoch has ended); empty
  // before rank 0 reported anything.
  std::string text() const;

 private:
  struct step_seen {
    uint64_t step = 0;
    int64_t at_ms = 0;
  };
  std::optional<int64_t> eta_ms() const;

  uint32_t epochs_;
  std::string attempt_;  // rank 0's attempt the figures are of
  uint32_t epoch_ = 0;   // the epoch under way (from 1)
  uint32_t epochs_done_ = 0;
  double loss_ = 0;
  std::optional<step_seen> first_, last_;  // of the attempt
  uint64_t steps_per_epoch_ = 0;           // 0: no epoch has ended yet
};

}  // namespace troupe::cli
