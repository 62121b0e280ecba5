// The node agent's side of the protocol with the head, as plain C++ (no actors, no sockets):
// the caller feeds it the head's messages and clock readings and does what it returns. The
// node agent actor drives one; troupe-nodesim drives thousands.
//
//   registering --RegisterNodeReply--> registered --HeartbeatRejected(unknownNode)--> registering
//        ^  (retried with backoff            |
//        |   while unanswered)               +--HeartbeatRejected(declaredDead)--> new incarnation,
//        +---------------------------------------------------------------------------- registering
//   The same rejections answer a registration whose incarnation cannot be accepted; an error
//   (e.g. the name is held by another live node) is logged and the registration retried.
//   HeartbeatRejected(staleIncarnation), or no new incarnation to take: halted, and the
//   daemon is asked to exit with code 1.
//   stop(): stopped, after a DeregisterNode for the current incarnation.
//
// Registration is sent when due, then resent after register_retry_ms, doubling up to 2 s,
// until a reply to this round comes (a reply to an earlier round is ignored). Registered,
// it heartbeats at once, then every interval the head's reply gave, on a fixed schedule;
// sequence numbers start at 1 for each incarnation.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "messages/codec.hpp"

namespace troupe::node_agent {

using clock = std::chrono::steady_clock;

// What the node tells the head about itself.
struct node_description {
  std::string node_id;
  std::string name;
  msg::resources resources;
  msg::labels labels;
  std::vector<std::string> addresses;
  std::string version;
};

// Takes (and stores) the next incarnation; or says why it cannot.
using incarnation_source = std::function<std::variant<uint64_t, std::string>()>;

struct log_line {
  enum class level { info, warning, error };
  log_line::level level;
  std::string text;
};

// What to do after an event: send these to the head in order, log these lines, and when
// `exit_code` is set, stop the daemon with it.
struct agent_actions {
  std::vector<msg::envelope> send;
  std::vector<log_line> log;
  std::optional<int> exit_code;
};

class agent_protocol {
 public:
  // The first registration is due at `first_registration`.
  agent_protocol(node_description node, uint64_t incarnation, incarnation_source next_incarnation,
                 uint32_t register_retry_ms, clock::time_point first_registration);

  // Does what is due by `now`: sends the registration again, or a heartbeat with `load`.
  agent_actions on_tick(clock::time_point now, const msg::node_load& load);
  // A message from the head, received at `now`.
  agent_actions on_message(const msg::envelope& env, clock::time_point now);
  // Stops registering and heartbeating and deregisters the current incarnation, also while
  // a registration is unanswered (its reply may be under way; the head ignores a
  // deregistration it cannot match).
  agent_actions stop();

  // When on_tick next has something to do; nullopt once halted or stopped.
  std::optional<clock::time_point> next_due() const { return due_; }
  bool registered() const { return phase_ == phase::registered; }
  uint64_t incarnation() const { return incarnation_; }

 private:
  enum class phase { registering, registered, halted, stopped };

  void start_registering(agent_actions& out, clock::time_point now);
  void send_registration(agent_actions& out, clock::time_point now);
  void send_heartbeat(agent_actions& out, clock::time_point now, const msg::node_load& load);
  void on_registered(agent_actions& out, const msg::register_node_reply& reply,
                     clock::time_point now);
  void on_rejected(agent_actions& out, const msg::heartbeat_rejected& rejected,
                   clock::time_point now);
  void halt(agent_actions& out, std::string why);
  void send(agent_actions& out, msg::body body);

  node_description node_;
  uint64_t incarnation_;
  incarnation_source next_incarnation_;
  std::chrono::milliseconds first_retry_;
  phase phase_ = phase::registering;
  std::optional<clock::time_point> due_;
  std::chrono::milliseconds retry_;
  std::chrono::milliseconds heartbeat_interval_{200};
  uint64_t sequence_ = 0;
  uint64_t next_request_id_ = 1;
  uint64_t first_request_of_round_ = 1;  // replies to earlier requests are stale
};

}  // namespace troupe::node_agent
