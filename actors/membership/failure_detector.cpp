#include "actors/membership/failure_detector.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace troupe::membership {
namespace {

double to_ms(duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

heartbeat_history::heartbeat_history(uint32_t window, duration expected_interval,
                                     duration min_std_dev)
    : intervals_ms_(std::max<uint32_t>(window, 2), to_ms(expected_interval)),
      min_std_dev_ms_(to_ms(min_std_dev)) {
  sum_ = to_ms(expected_interval) * intervals_ms_.size();
  sum_of_squares_ = to_ms(expected_interval) * to_ms(expected_interval) * intervals_ms_.size();
}

void heartbeat_history::add_interval(duration interval) {
  double ms = to_ms(interval);
  double old = intervals_ms_[next_];
  intervals_ms_[next_] = ms;
  next_ = (next_ + 1) % intervals_ms_.size();
  sum_ += ms - old;
  sum_of_squares_ += ms * ms - old * old;
}

double heartbeat_history::mean_ms() const { return sum_ / intervals_ms_.size(); }

double heartbeat_history::std_dev_ms() const {
  double n = intervals_ms_.size();
  double mean = sum_ / n;
  double variance = std::max(0.0, sum_of_squares_ / n - mean * mean);
  return std::max(std::sqrt(variance), min_std_dev_ms_);
}

double heartbeat_history::phi(duration since_last) const {
  double y = (to_ms(since_last) - mean_ms()) / std_dev_ms();
  // P(X > t) for a normal distribution; erfc keeps precision far into the tail.
  double p_later = 0.5 * std::erfc(y / std::sqrt(2.0));
  if (p_later <= std::numeric_limits<double>::min()) return std::numeric_limits<double>::infinity();
  return -std::log10(p_later);
}

}  // namespace troupe::membership
