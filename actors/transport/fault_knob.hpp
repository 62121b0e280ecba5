// Faults that tests inject at a wire endpoint: drop, delay or duplicate the n-th message of
// one kind going one way (in the spirit of Ray's RPC failure switches). Set in code, before
// the endpoint starts; nothing on the wire can reach it, and without faults it costs one
// branch per message.
//
// Thread-safe once set: messages are counted from the socket thread and sending actors.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "messages/envelope.hpp"

namespace troupe::actors {

// The index of alternative `T` in msg::body: a message's kind.
template <class T, size_t I = 0>
constexpr size_t kind_of() {
  if constexpr (std::is_same_v<std::variant_alternative_t<I, msg::body>, T>)
    return I;
  else
    return kind_of<T, I + 1>();
}

enum class fault_direction { inbound, outbound };
enum class fault_action { drop, delay, duplicate };

struct fault {
  fault_direction direction = fault_direction::inbound;
  size_t kind = 0;   // kind_of<T>()
  uint64_t nth = 1;  // counted from 1 among the messages of that kind and direction
  fault_action action = fault_action::drop;
  std::chrono::milliseconds delay{0};  // for fault_action::delay

  template <class T>
  static fault on(fault_direction direction, uint64_t nth, fault_action action,
                  std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
    return {direction, kind_of<T>(), nth, action, delay};
  }
};

class fault_knob {
 public:
  fault_knob() = default;
  ~fault_knob();
  fault_knob(const fault_knob&) = delete;
  fault_knob& operator=(const fault_knob&) = delete;

  // Only before messages flow: the list is then read without locking.
  void add(const fault& f) { armed_.emplace_back(f); }

  // Counts a message of `kind` going `direction`; returns the fault it meets, if any.
  std::optional<fault> meet(fault_direction direction, size_t kind);

  // Runs `task` after `delay` on the knob's own thread; tasks still waiting when the knob is
  // destroyed are dropped.
  void after(std::chrono::milliseconds delay, std::function<void()> task);

 private:
  struct armed_fault {
    explicit armed_fault(const fault& f) : what(f) {}
    fault what;
    std::atomic<uint64_t> seen{0};
  };
  using clock = std::chrono::steady_clock;

  void run_delayed();

  std::deque<armed_fault> armed_;  // a deque: its atomics never move
  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<clock::time_point, std::function<void()>> delayed_;
  bool stopping_ = false;
  std::thread delayer_;  // started by the first after()
};

}  // namespace troupe::actors
