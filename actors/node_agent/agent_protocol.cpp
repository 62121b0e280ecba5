#include "actors/node_agent/agent_protocol.hpp"

#include "messages/safe_text.hpp"

#include <algorithm>

namespace troupe::node_agent {
namespace {

constexpr std::chrono::milliseconds max_register_retry{2000};
constexpr std::chrono::milliseconds min_heartbeat_interval{10};

}  // namespace

agent_protocol::agent_protocol(node_description node, uint64_t incarnation,
                               incarnation_source next_incarnation, uint32_t register_retry_ms,
                               clock::time_point first_registration)
    : node_(std::move(node)),
      incarnation_(incarnation),
      next_incarnation_(std::move(next_incarnation)),
      first_retry_(register_retry_ms),
      due_(first_registration),
      retry_(first_retry_) {}

agent_actions agent_protocol::on_tick(clock::time_point now, const msg::node_load& load) {
  agent_actions out;
  if (!due_ || now < *due_) return out;
  if (phase_ == phase::registering)
    send_registration(out, now);
  else
    send_heartbeat(out, now, load);
  return out;
}

agent_actions agent_protocol::on_message(const msg::envelope& env, clock::time_point now) {
  agent_actions out;
  if (phase_ == phase::halted || phase_ == phase::stopped) return out;
  if (auto* reply = std::get_if<msg::register_node_reply>(&env.body)) {
    // Only a reply to this round of registration counts (not one for an older incarnation).
    if (env.request_id >= first_request_of_round_) on_registered(out, *reply, now);
  } else if (auto* rejected = std::get_if<msg::heartbeat_rejected>(&env.body)) {
    on_rejected(out, *rejected, now);
  } else if (auto* err = std::get_if<msg::error>(&env.body)) {
    // E.g. the name is held by another live node: the pending retry tries again.
    out.log.push_back({log_line::level::error, "the head refused: " + msg::printable(err->message) +
                                                   " (" + msg::to_string(err->code) + ")"});
  }
  return out;
}

agent_actions agent_protocol::stop() {
  agent_actions out;
  phase_ = phase::stopped;
  due_.reset();
  send(out, msg::deregister_node{node_.node_id, incarnation_, "shutdown"});
  return out;
}

void agent_protocol::start_registering(agent_actions& out, clock::time_point now) {
  phase_ = phase::registering;
  retry_ = first_retry_;
  first_request_of_round_ = next_request_id_;
  send_registration(out, now);
}

void agent_protocol::send_registration(agent_actions& out, clock::time_point now) {
  msg::register_node_request request;
  request.node_id = node_.node_id;
  request.name = node_.name;
  request.incarnation = incarnation_;
  request.addresses = node_.addresses;
  request.resources = node_.resources;
  request.labels = node_.labels;
  request.version = node_.version;
  send(out, std::move(request));
  due_ = now + retry_;
  retry_ = std::min(retry_ * 2, max_register_retry);
}

void agent_protocol::send_heartbeat(agent_actions& out, clock::time_point now,
                                    const msg::node_load& load) {
  msg::heartbeat beat;
  beat.node_id = node_.node_id;
  beat.incarnation = incarnation_;
  beat.sequence = ++sequence_;
  beat.load = load;
  // Nothing is placed on nodes yet: everything offered is free.
  beat.free = {node_.resources.cpus, node_.resources.memory_mb,
               static_cast<uint32_t>(node_.resources.gpus.size())};
  send(out, beat);
  // A fixed schedule; after a stall longer than an interval, one beat and a fresh start.
  *due_ += heartbeat_interval_;
  if (*due_ <= now) due_ = now + heartbeat_interval_;
}

void agent_protocol::on_registered(agent_actions& out, const msg::register_node_reply& reply,
                                   clock::time_point now) {
  if (phase_ != phase::registering) return;  // a duplicate reply
  phase_ = phase::registered;
  heartbeat_interval_ =
      std::max(std::chrono::milliseconds(reply.heartbeat_interval_ms), min_heartbeat_interval);
  due_ = now;
  out.log.push_back({log_line::level::info, "registered as " + node_.name + " (" + node_.node_id +
                                                ") incarnation " + std::to_string(incarnation_) +
                                                (reply.draining ? ", draining" : "")});
}

void agent_protocol::on_rejected(agent_actions& out, const msg::heartbeat_rejected& rejected,
                                 clock::time_point now) {
  using reason = msg::heartbeat_reject_reason;
  switch (rejected.reason) {
    case reason::unknown_node:
      if (phase_ != phase::registered) return;  // already registering
      out.log.push_back(
          {log_line::level::warning, "the head does not know this node; registering again"});
      break;
    case reason::declared_dead: {
      if (rejected.known_incarnation != incarnation_) return;  // about an earlier one
      auto next = next_incarnation_();
      if (auto* why = std::get_if<std::string>(&next))
        return halt(out, "cannot take a new incarnation: " + *why + "; stopping");
      incarnation_ = std::get<uint64_t>(next);
      sequence_ = 0;
      out.log.push_back({log_line::level::warning,
                         "the head declared this node dead; registering as incarnation " +
                             std::to_string(incarnation_)});
      break;
    }
    case reason::stale_incarnation:
      return halt(out, "incarnation " + std::to_string(rejected.known_incarnation) +
                           " of this node id is registered, newer than ours (" +
                           std::to_string(incarnation_) +
                           "): another trouped runs with a copy of this data dir; stopping");
  }
  start_registering(out, now);
}

void agent_protocol::halt(agent_actions& out, std::string why) {
  phase_ = phase::halted;
  due_.reset();
  out.log.push_back({log_line::level::error, std::move(why)});
  out.exit_code = 1;
}

void agent_protocol::send(agent_actions& out, msg::body body) {
  msg::envelope env;
  env.request_id = next_request_id_++;
  env.sender = node_.node_id;
  env.body = std::move(body);
  out.send.push_back(std::move(env));
}

}  // namespace troupe::node_agent
