// A replica's connection to its node over the rank link: the replica's ResolveService and
// ReplicaReport requests go up it, and the node sends down it the head's ResolveServiceRequest
// naming the replica (resolve now: a reload). Predictions come to the replica's own socket
// (prediction_socket.hpp). Plain C++, thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>

#include <zmq.hpp>

#include "cluster/security/credentials.hpp"
#include "cluster/transport/socket_loop.hpp"
#include "messages/codec.hpp"

namespace troupe::replica {

class replica_connection {
 public:
  // `on_resolve_now` is called for each resolve-now, on the connection's thread; it must not
  // block.
  replica_connection(const security::credential& link, std::string sender,
                     std::function<void()> on_resolve_now);
  ~replica_connection();

  // Sends `body` and waits for its answer; nullopt when none came within `timeout`.
  std::optional<msg::envelope> call(msg::body body, std::chrono::milliseconds timeout);

 private:
  void on_frame(const zmq::message_t& frame);

  std::string sender_;
  std::function<void()> on_resolve_now_;
  zmq::context_t context_{1};
  std::mutex mutex_;
  std::map<uint64_t, std::promise<msg::envelope>> waiting_;
  std::atomic<uint64_t> next_id_{1};
  transport::socket_loop loop_;  // last: its thread calls on_frame once started
};

}  // namespace troupe::replica
