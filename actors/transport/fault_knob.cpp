#include "actors/transport/fault_knob.hpp"

namespace troupe::actors {

fault_knob::~fault_knob() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (delayer_.joinable()) delayer_.join();
}

std::optional<fault> fault_knob::meet(fault_direction direction, size_t kind) {
  std::optional<fault> met;
  for (auto& armed : armed_) {  // every fault counts the message, the first one due acts
    if (armed.what.direction != direction || armed.what.kind != kind) continue;
    if (armed.seen.fetch_add(1) + 1 == armed.what.nth && !met) met = armed.what;
  }
  return met;
}

void fault_knob::after(std::chrono::milliseconds delay, std::function<void()> task) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    delayed_.emplace(clock::now() + delay, std::move(task));
    if (!delayer_.joinable()) delayer_ = std::thread([this] { run_delayed(); });
  }
  wake_.notify_one();
}

void fault_knob::run_delayed() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (delayed_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto first = delayed_.begin();
    if (clock::now() < first->first) {
      wake_.wait_until(lock, first->first);
      continue;
    }
    auto task = std::move(first->second);
    delayed_.erase(first);
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace troupe::actors
