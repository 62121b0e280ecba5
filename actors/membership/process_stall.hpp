// How long this whole process did not run (kill -STOP, a paused VM, heavy swapping), told
// apart from a busy actor or a request backlog: a thread of its own, with nothing else to
// do, wakes every `period`; a wake-up later than `tolerance` means the process was not
// running, and the whole lateness counts as a stall. The head forgives nodes only that.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace troupe::membership {

// The arithmetic, fed the watching thread's wake-ups. Not thread-safe.
class stall_ledger {
 public:
  using clock = std::chrono::steady_clock;

  stall_ledger(clock::duration period, clock::duration tolerance, clock::time_point start);

  void woke(clock::time_point now);
  // Stalls up to `now`, including one still going on (the process resumed and the watching
  // thread has not woken yet). Never decreases as `now` grows.
  clock::duration stalled(clock::time_point now) const;

 private:
  clock::duration lateness(clock::time_point now) const;

  clock::duration period_;
  clock::duration tolerance_;
  clock::time_point last_wake_;
  clock::duration total_{0};
};

// The watching thread. Thread-safe.
class process_stall_clock {
 public:
  using clock = stall_ledger::clock;

  process_stall_clock(clock::duration period, clock::duration tolerance);
  ~process_stall_clock();
  process_stall_clock(const process_stall_clock&) = delete;
  process_stall_clock& operator=(const process_stall_clock&) = delete;

  clock::duration stalled(clock::time_point now) const;

 private:
  void watch(clock::duration period);

  mutable std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  stall_ledger ledger_;
  std::thread thread_;
};

}  // namespace troupe::membership
