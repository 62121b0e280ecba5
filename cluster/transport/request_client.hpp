// A blocking request/reply client over one DEALER socket, used on the calling thread only
// (the CLI, benchmarks, tests, a node's artifact transfers). Replies are matched by request id;
// several requests may be in flight (send, then await each), and replies to requests nobody
// awaits any more are skipped.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <zmq.hpp>

#include "cluster/transport/socket_loop.hpp"
#include "messages/codec.hpp"

namespace troupe::transport {

class request_client {
 public:
  // With `curve`, the link is CURVE-encrypted and authenticated (the head admits only keys it
  // knows; without one, or with a key it does not know, no reply ever comes). `linger_ms`: how
  // long closing may still deliver frames sent without waiting for a reply.
  request_client(std::string endpoint, std::string sender_name,
                 const std::optional<curve_keys>& curve = std::nullopt, int linger_ms = 0);

  // Sends `body` and waits for the matching reply. Returns nullopt when no reply came
  // within `timeout`; a reply that cannot be decoded comes back as an error body.
  std::optional<msg::envelope> call(msg::body body, std::chrono::milliseconds timeout);

  // Sends `body` without waiting; returns its request id, for await.
  uint64_t send(msg::body body);
  // Waits at most `timeout` for the reply to the request `id` that send returned; a reply to
  // another awaited request that comes first is kept for its await. nullopt when none came in
  // time: the request is then no longer awaited (a late reply to it is skipped), so awaiting it
  // with no time at all abandons it.
  std::optional<msg::envelope> await(uint64_t id, std::chrono::milliseconds timeout);

  // Sends raw bytes as one frame (for tests that speak malformed protocol).
  void send_raw(const std::string& bytes);
  // Waits for any frame and decodes it; nullopt on timeout.
  std::optional<msg::decode_result> receive(std::chrono::milliseconds timeout);

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string endpoint_;
  std::string sender_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  uint64_t next_request_id_;
  std::set<uint64_t> awaited_;                 // sent, not yet answered to an await
  std::map<uint64_t, msg::envelope> arrived_;  // replies to awaited requests, not yet taken
};

}  // namespace troupe::transport
