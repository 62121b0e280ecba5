// The bridge between one ZeroMQ socket loop and this process's actors. Inbound frames are
// decoded (bounded) on the socket thread; a well-formed envelope goes to the actor routed
// for its kind as an `inbound` message. An undecodable frame is counted; the ROUTER side
// (the head) answers it with an error, the DEALER side never answers (two peers that cannot
// read each other must not bounce errors forever). Outbound envelopes are encoded by the
// sending actor and queued on the socket thread.
//
// On the ROUTER side requests are budgeted per peer (request_budget.hpp): beyond the budget
// the endpoint itself answers `overloaded`. Heartbeats go to their actor at high priority,
// so that they never queue behind requests. Tests may inject faults (fault_knob.hpp).
//
// Life cycle: construct (binds or connects), route() every kind, then start().
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/transport/fault_knob.hpp"
#include "actors/transport/request_budget.hpp"
#include "cluster/transport/socket_loop.hpp"
#include "messages/codec.hpp"

namespace troupe::actors {

// An envelope received from `peer` (a ROUTER identity; empty from a DEALER) at `received`.
struct inbound {
  std::string peer;
  msg::envelope env;
  transport::clock::time_point received;
};

class wire_endpoint {
 public:
  using role = transport::socket_loop::role;

  // Requests one peer may have waiting for an answer; a CLI or a node has one at a time.
  static constexpr size_t requests_in_flight_per_peer = 32;

  // `self_name` is the sender written into replies the endpoint makes itself.
  wire_endpoint(zmq::context_t& context, role r, const std::string& endpoint,
                const msg::decode_limits& limits, std::string self_name);
  ~wire_endpoint();

  // Routes every inbound envelope whose body holds alternative `T` to `handler`. Only
  // before start(): the socket thread reads the routes without locking.
  template <class T>
  void route(caf::actor handler) {
    routes_[kind_of<T>()] = std::move(handler);
  }

  // For tests, before start(): drops, delays or duplicates one message (see fault_knob.hpp).
  void inject(const fault& f) { faults_.add(f); }

  void start() { loop_->start(); }

  // Thread-safe.
  void send(const std::string& peer, const msg::envelope& env);

  void stop() { loop_->stop(); }
  const std::string& endpoint() const { return loop_->endpoint(); }
  // Frames that could not be decoded or had the wrong number of parts, plus well-formed
  // messages of a kind not served here.
  uint64_t malformed_count() const { return malformed_ + unrouted_ + loop_->counters().bad_shape; }
  const transport::socket_counters& counters() const { return loop_->counters(); }

 private:
  void on_frame(const std::string& peer, const zmq::message_t& frame,
                transport::clock::time_point received);
  // Routes a decoded envelope; returns whether it is a request that its actor will answer.
  bool accept(const std::string& peer, msg::envelope env, transport::clock::time_point received);

  role role_;
  msg::decode_limits limits_;
  std::string self_name_;
  std::array<caf::actor, std::variant_size_v<msg::body>> routes_;
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> unrouted_{0};
  request_budget budget_;
  std::unique_ptr<transport::socket_loop> loop_;
  fault_knob faults_;  // destroyed first: its delayed messages use the loop
};

using wire_endpoint_ptr = std::shared_ptr<wire_endpoint>;

}  // namespace troupe::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::actors::inbound)
