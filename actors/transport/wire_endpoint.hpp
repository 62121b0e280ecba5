// The bridge between one ZeroMQ socket loop and this process's actors. Inbound frames are
// decoded (bounded) on the socket thread; a well-formed envelope goes to the actor routed
// for its kind as an `inbound` message. An undecodable frame is counted; the ROUTER side
// (the head) answers it with an error, the DEALER side never answers (two peers that cannot
// read each other must not bounce errors forever). Outbound envelopes are encoded by the
// sending actor and queued on the socket thread.
//
// Authentication (ROUTER with a key registry): every frame carries the id of the CURVE key its
// connection was admitted with (the ZAP handler sets it). A frame whose key is unknown, revoked
// or expired is dropped unanswered. A kind the key's role may not send is answered
// `permissionDenied`; so is a node key speaking for another node id (its heartbeats are dropped).
// The routed actor gets the key with its node id or tenant, to check what the key may see.
//
// On the ROUTER side requests are budgeted per peer (request_budget.hpp): beyond the budget
// the endpoint itself answers `overloaded`. Heartbeats go to their actor at high priority,
// so that they never queue behind requests. Tests may inject faults (fault_knob.hpp).
//
// Life cycle: construct (binds or connects), route() every kind, then start().
#pragma once

#include <array>
#include <atomic>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/transport/fault_knob.hpp"
#include "actors/transport/request_budget.hpp"
#include "cluster/security/key_lookup.hpp"
#include "cluster/transport/socket_loop.hpp"
#include "messages/codec.hpp"

namespace troupe::actors {

// The key a message came with (ROUTER side only).
struct sender_key {
  std::string key_id;
  msg::key_role role = msg::key_role::admin;
  std::string node_id;  // role node: the node it enrolled as
  std::string tenant;   // role submit: the only tenant whose jobs it may see
};

// An envelope received from `peer` (a ROUTER identity; empty from a DEALER) at `received`.
struct inbound {
  std::string peer;
  msg::envelope env;
  transport::clock::time_point received;
  std::optional<sender_key> sender;  // set on an authenticating ROUTER
};

// The roles that may send a kind of request, as a set.
class role_set {
 public:
  role_set() = default;
  role_set(std::initializer_list<msg::key_role> roles) {
    for (auto r : roles) bits_ |= bit(r);
  }
  bool contains(msg::key_role r) const { return bits_ & bit(r); }

 private:
  static unsigned bit(msg::key_role r) { return 1u << static_cast<unsigned>(r); }
  unsigned bits_ = 0;
};

class wire_endpoint {
 public:
  using role = transport::socket_loop::role;

  // Requests one peer may have waiting for an answer; a CLI or a node has one at a time.
  static constexpr size_t requests_in_flight_per_peer = 32;

  // `self_name` is the sender written into replies the endpoint makes itself. `curve` turns
  // CURVE on; a ROUTER with CURVE needs `keys` (and a ZAP handler on `context`).
  wire_endpoint(zmq::context_t& context, role r, const std::string& endpoint,
                const msg::decode_limits& limits, std::string self_name,
                std::optional<transport::curve_keys> curve = std::nullopt,
                std::shared_ptr<const security::key_lookup> keys = nullptr);
  ~wire_endpoint();

  // Routes every inbound request whose body holds alternative `T` to `handler`, from keys
  // whose role is in `senders`. Only before start(): the socket thread reads the routes
  // without locking.
  template <class T>
  void route(caf::actor handler, role_set senders) {
    routes_[kind_of<T>()] = {std::move(handler), senders};
  }
  // Routes replies from the head (DEALER side: the head is the one server we trust).
  template <class T>
  void route_reply(caf::actor handler) {
    routes_[kind_of<T>()] = {std::move(handler), role_set{}};
  }

  // For tests, before start(): drops, delays or duplicates one message (see fault_knob.hpp).
  void inject(const fault& f) { faults_.add(f); }

  void start() { loop_->start(); }

  // Thread-safe.
  void send(const std::string& peer, const msg::envelope& env);

  void stop() { loop_->stop(); }
  // Closes every client connection (after a key was revoked); see socket_loop.
  void drop_connections() { loop_->drop_connections(); }
  const std::string& endpoint() const { return loop_->endpoint(); }
  // Frames that could not be decoded or had the wrong number of parts, plus well-formed
  // messages of a kind not served here.
  uint64_t malformed_count() const { return malformed_ + unrouted_ + loop_->counters().bad_shape; }
  const transport::socket_counters& counters() const { return loop_->counters(); }

 private:
  struct route_entry {
    caf::actor handler;
    role_set senders;
  };

  void on_frame(const std::string& peer, const zmq::message_t& frame,
                transport::clock::time_point received);
  // The key of an authenticated frame, or nullopt when it must be dropped.
  std::optional<sender_key> authenticate(const zmq::message_t& frame);
  // Whether `key` may send `env`; answers permissionDenied when not.
  bool permitted(const std::string& peer, const msg::envelope& env, const route_entry& route,
                 const sender_key& key);
  // Routes a decoded envelope; returns whether it is a request that its actor will answer.
  bool accept(const std::string& peer, msg::envelope env, transport::clock::time_point received,
              std::optional<sender_key> key);

  role role_;
  msg::decode_limits limits_;
  std::string self_name_;
  std::shared_ptr<const security::key_lookup> keys_;
  std::array<route_entry, std::variant_size_v<msg::body>> routes_{};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> unrouted_{0};
  request_budget budget_;
  std::unique_ptr<transport::socket_loop> loop_;
  fault_knob faults_;  // destroyed first: its delayed messages use the loop
};

using wire_endpoint_ptr = std::shared_ptr<wire_endpoint>;

}  // namespace troupe::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::actors::inbound)
