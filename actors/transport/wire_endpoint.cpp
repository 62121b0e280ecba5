#include "actors/transport/wire_endpoint.hpp"

#include <spdlog/spdlog.h>
#include <caf/send.hpp>

namespace troupe::actors {
namespace {

// Kinds that are never answered (a rejected heartbeat is, but is not waited for).
bool is_one_way(const msg::body& body) {
  return std::holds_alternative<msg::heartbeat>(body) ||
         std::holds_alternative<msg::deregister_node>(body);
}

}  // namespace

wire_endpoint::wire_endpoint(zmq::context_t& context, role r, const std::string& endpoint,
                             const msg::decode_limits& limits, std::string self_name)
    : role_(r),
      limits_(limits),
      self_name_(std::move(self_name)),
      budget_(requests_in_flight_per_peer) {
  transport::socket_options options;
  // ZeroMQ's own cap is a memory guard well above ours, so that frames between the two
  // limits still get an error reply instead of a silent disconnect.
  options.max_message_bytes = limits.max_frame_bytes * 4;
  loop_ = std::make_unique<transport::socket_loop>(
      context, r, endpoint, options,
      [this](const std::string& peer, const zmq::message_t& frame,
             transport::clock::time_point received) { on_frame(peer, frame, received); });
}

wire_endpoint::~wire_endpoint() { loop_->stop(); }

void wire_endpoint::send(const std::string& peer, const msg::envelope& env) {
  if (role_ == role::router_bind) budget_.release(peer, env.request_id);
  auto bytes = msg::encode(env);
  const auto fault = faults_.meet(fault_direction::outbound, env.body.index());
  if (fault && fault->action == fault_action::drop) return;
  if (fault && fault->action == fault_action::delay) {
    faults_.after(fault->delay, [this, peer, bytes] { loop_->send(peer, bytes); });
    return;
  }
  if (fault && fault->action == fault_action::duplicate) loop_->send(peer, bytes);
  loop_->send(peer, std::move(bytes));
}

void wire_endpoint::on_frame(const std::string& peer, const zmq::message_t& frame,
                             transport::clock::time_point received) {
  auto result = msg::decode(frame.data(), frame.size(), limits_);
  if (auto* failure = std::get_if<msg::decode_failure>(&result)) {
    ++malformed_;
    spdlog::debug("dropped a bad frame ({} bytes): {}", frame.size(), failure->message);
    if (role_ == role::router_bind)
      loop_->send(peer, msg::encode(msg::failure_reply(*failure, self_name_)));
    return;
  }
  auto& env = std::get<msg::envelope>(result);
  const auto fault = faults_.meet(fault_direction::inbound, env.body.index());
  if (fault && fault->action == fault_action::drop) return;
  if (fault && fault->action == fault_action::delay) {
    faults_.after(fault->delay, [this, peer, env] { accept(peer, env, transport::clock::now()); });
    return;
  }
  if (fault && fault->action == fault_action::duplicate) accept(peer, env, received);
  if (accept(peer, std::move(env), received)) loop_->expect_prompt_reply();
}

bool wire_endpoint::accept(const std::string& peer, msg::envelope env,
                           transport::clock::time_point received) {
  // The endpoint's own answers below go straight to the loop, not through send(): they must
  // not release another request of the peer's budget.
  const auto& handler = routes_[env.body.index()];
  if (!handler) {
    // Replies nobody waits for are dropped; requests to the head get an answer.
    ++unrouted_;
    if (role_ == role::dealer_connect || std::holds_alternative<msg::error>(env.body) ||
        std::holds_alternative<msg::unimplemented>(env.body))
      return false;
    loop_->send(peer, msg::encode(msg::reply_to(
                          env, self_name_,
                          msg::error{msg::error_code::invalid_request,
                                     "this process does not serve that message kind"})));
    return false;
  }
  if (std::holds_alternative<msg::heartbeat>(env.body)) {
    caf::anon_send<caf::message_priority::high>(handler, inbound{peer, std::move(env), received});
    return false;
  }
  const bool request = !is_one_way(env.body);
  if (request && role_ == role::router_bind && !budget_.admit(peer, env.request_id)) {
    loop_->send(peer, msg::encode(msg::reply_to(
                          env, self_name_,
                          msg::error{msg::error_code::overloaded,
                                     "too many requests of yours are waiting; retry later"})));
    return false;
  }
  caf::anon_send(handler, inbound{peer, std::move(env), received});
  return request;
}

}  // namespace troupe::actors
