// Phi-accrual failure detection (Hayashibara et al., 2004), one history per node.
//
// phi(t) = -log10(P(the next heartbeat arrives later than t after the last one)), with the
// inter-arrival time modelled as a normal distribution whose mean and deviation come from
// the node's recent intervals. The deviation has a floor (`min_std_dev`) so that a perfectly
// regular node is not declared dead by a single late heartbeat. Because the threshold is in
// units of the observed distribution, a node whose heartbeats jitter (a loaded machine)
// gets a proportionally longer timeout, while a quiet LAN keeps detection near a second.
// Plain C++, no actors: tested on its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace troupe::membership {

using duration = std::chrono::steady_clock::duration;

class heartbeat_history {
 public:
  // Seeds the window with `expected_interval` so a new node starts with a sane estimate.
  heartbeat_history(uint32_t window, duration expected_interval, duration min_std_dev);

  void add_interval(duration interval);

  // Suspicion level for a silence of `since_last` since the last heartbeat.
  double phi(duration since_last) const;

  double mean_ms() const;
  double std_dev_ms() const;

 private:
  std::vector<double> intervals_ms_;  // ring buffer
  size_t next_ = 0;
  double sum_ = 0;
  double sum_of_squares_ = 0;
  double min_std_dev_ms_;
};

}  // namespace troupe::membership
