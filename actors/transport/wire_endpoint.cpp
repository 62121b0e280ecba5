#include "actors/transport/wire_endpoint.hpp"

#include <spdlog/spdlog.h>
#include <caf/send.hpp>

namespace troupe::actors {

wire_endpoint::wire_endpoint(zmq::context_t& context, role r, const std::string& endpoint,
                             const msg::decode_limits& limits, std::string self_name)
    : role_(r), limits_(limits), self_name_(std::move(self_name)) {
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
  loop_->send(peer, msg::encode(env));
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
  const auto& handler = routes_[env.body.index()];
  if (!handler) {
    // Replies nobody waits for are dropped; requests to the head get an answer.
    ++unrouted_;
    if (role_ == role::dealer_connect || std::holds_alternative<msg::error>(env.body) ||
        std::holds_alternative<msg::unimplemented>(env.body))
      return;
    loop_->send(peer, msg::encode(msg::reply_to(
                          env, self_name_,
                          msg::error{msg::error_code::invalid_request,
                                     "this process does not serve that message kind"})));
    return;
  }
  // Heartbeats need no answer; every other message routed here is a request.
  if (!std::holds_alternative<msg::heartbeat>(env.body)) loop_->expect_prompt_reply();
  caf::anon_send(handler, inbound{peer, std::move(env), received});
}

}  // namespace troupe::actors
