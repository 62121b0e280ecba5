#include "actors/membership/process_stall.hpp"

namespace troupe::membership {

stall_ledger::stall_ledger(clock::duration period, clock::duration tolerance,
                           clock::time_point start)
    : period_(period), tolerance_(tolerance), last_wake_(start) {}

stall_ledger::clock::duration stall_ledger::lateness(clock::time_point now) const {
  auto late = now - last_wake_ - period_;
  return late > tolerance_ ? late : clock::duration::zero();
}

void stall_ledger::woke(clock::time_point now) {
  total_ += lateness(now);
  last_wake_ = std::max(last_wake_, now);
}

stall_ledger::clock::duration stall_ledger::stalled(clock::time_point now) const {
  return total_ + lateness(now);
}

process_stall_clock::process_stall_clock(clock::duration period, clock::duration tolerance)
    : ledger_(period, tolerance, clock::now()), thread_([this, period] { watch(period); }) {}

process_stall_clock::~process_stall_clock() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  stop_.notify_one();
  thread_.join();
}

process_stall_clock::clock::duration process_stall_clock::stalled(clock::time_point now) const {
  std::lock_guard<std::mutex> guard(mutex_);
  return ledger_.stalled(now);
}

void process_stall_clock::watch(clock::duration period) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_.wait_for(lock, period, [this] { return stopping_; })) ledger_.woke(clock::now());
}

}  // namespace troupe::membership
