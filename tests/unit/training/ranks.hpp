// Ranks as threads of the test process: Gloo groups work between threads as between processes.
#pragma once

#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace troupe::training::test {

// Runs body(rank) on `world_size` threads and rethrows the first rank's exception, if any.
// Every collective in a body is bounded by its communicator's timeout, so the joins are too.
// Bodies make no Boost.Test checks (its checks are not thread-safe): the test checks after.
inline void run_ranks(int world_size, const std::function<void(int)>& body) {
  std::vector<std::exception_ptr> errors(world_size);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world_size; ++rank)
    threads.emplace_back([&, rank] {
      try {
        body(rank);
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  for (auto& thread : threads) thread.join();
  for (auto& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace troupe::training::test
