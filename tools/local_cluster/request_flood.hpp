// A flood of requests at a head, for tests and benchmarks: `sockets` DEALER sockets, each
// on its own thread, send one request frame over and over as fast as ZeroMQ queues it,
// never waiting for answers, and count the replies they read. Stops when destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "messages/envelope.hpp"

#include "cluster/transport/socket_loop.hpp"

namespace troupe::local {

class request_flood {
 public:
  // Each socket authenticates with `keys` (CURVE), as a flooding client with a valid key would.
  request_flood(const std::string& endpoint, const msg::body& request, int sockets,
                transport::curve_keys keys);
  ~request_flood();
  request_flood(const request_flood&) = delete;
  request_flood& operator=(const request_flood&) = delete;

  struct counts {
    uint64_t sent = 0;        // queued into ZeroMQ
    uint64_t answered = 0;    // replies read, `overloaded` ones included
    uint64_t overloaded = 0;  // replies that were an `overloaded` error
  };
  counts so_far() const;

 private:
  void run(const std::string& endpoint);

  std::string frame_;
  transport::curve_keys keys_;
  zmq::context_t context_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> sent_{0}, answered_{0}, overloaded_{0};
  std::vector<std::thread> threads_;
};

}  // namespace troupe::local
