#include "actors/transport/wire_endpoint.hpp"

#include <spdlog/spdlog.h>
#include <caf/send.hpp>
#include <stdexcept>

#include "cluster/security/key_registry.hpp"
#include "messages/safe_text.hpp"

namespace troupe::actors {
namespace {

// Kinds that are never answered (a rejected heartbeat is, but is not waited for): no budget
// slot, and no wait for a prompt reply after them. A node answers what the head tells it about
// tasks with reports of its own, later, not with replies. Errors and prediction replies are
// answers: a head or node that asked receives them on its ROUTER.
bool is_one_way(const msg::body& body) {
  if (const auto* jobs = std::get_if<msg::jobs_message>(&body))
    return std::holds_alternative<msg::task_started>(jobs->body) ||
           std::holds_alternative<msg::task_output>(jobs->body) ||
           std::holds_alternative<msg::task_finished>(jobs->body) ||
           std::holds_alternative<msg::node_tasks>(jobs->body) ||
           std::holds_alternative<msg::start_task_request>(jobs->body) ||
           std::holds_alternative<msg::kill_task_request>(jobs->body) ||
           std::holds_alternative<msg::task_finished_ack>(jobs->body);
  if (const auto* training = std::get_if<msg::training_message>(&body))
    return std::holds_alternative<msg::metrics_report>(training->body);
  if (const auto* inference = std::get_if<msg::inference_message>(&body))
    return std::holds_alternative<msg::predict_reply>(inference->body);
  return std::holds_alternative<msg::heartbeat>(body) ||
         std::holds_alternative<msg::deregister_node>(body) ||
         std::holds_alternative<msg::error>(body);
}

// A request answered only after another process answered it (a prediction goes on to a replica,
// a resolution to the job service and the store, a resolve-now to a replica unanswered): polling
// the outbox for its reply would spin in vain.
bool answered_elsewhere(const msg::body& body) {
  const auto* inference = std::get_if<msg::inference_message>(&body);
  return inference && (std::holds_alternative<msg::predict_request>(inference->body) ||
                       std::holds_alternative<msg::resolve_service_request>(inference->body));
}

// The node id a node-side message speaks for, if it is one.
const std::string* claimed_node_id(const msg::body& body) {
  if (auto* r = std::get_if<msg::register_node_request>(&body)) return &r->node_id;
  if (auto* h = std::get_if<msg::heartbeat>(&body)) return &h->node_id;
  if (auto* d = std::get_if<msg::deregister_node>(&body)) return &d->node_id;
  return nullptr;
}

}  // namespace

wire_endpoint::wire_endpoint(zmq::context_t& context, role r, const std::string& endpoint,
                             const msg::decode_limits& limits, std::string self_name,
                             std::optional<transport::curve_keys> curve,
                             std::shared_ptr<const security::key_lookup> keys)
    : role_(r),
      limits_(limits),
      self_name_(std::move(self_name)),
      keys_(std::move(keys)),
      budget_(requests_in_flight_per_peer) {
  if (r == role::router_bind && curve && !keys_)
    throw std::invalid_argument("an authenticating ROUTER needs a key registry");
  transport::socket_options options;
  options.curve = std::move(curve);
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

std::optional<sender_key> wire_endpoint::authenticate(const zmq::message_t& frame) {
  // The ZAP handler's User-Id: the id of the key this connection was admitted with.
  const char* key_id = zmq_msg_gets(frame.handle(), "User-Id");
  auto key = key_id ? keys_->usable(key_id, security::unix_now_ms()) : std::nullopt;
  if (!key) return std::nullopt;
  return sender_key{key->key_id, key->role, key->node_id, key->tenant};
}

bool wire_endpoint::permitted(const std::string& peer, const msg::envelope& env,
                              const route_entry& route, const sender_key& key) {
  std::string why;
  if (!route.senders.contains(key.role)) {
    why = std::string("a key of role ") + msg::to_string(key.role) + " may not send this request";
  } else if (const auto* node_id = claimed_node_id(env.body);
             node_id && key.role == msg::key_role::node && *node_id != key.node_id) {
    why = "this key speaks only for node " + key.node_id;
  } else {
    return true;
  }
  if (!std::holds_alternative<msg::heartbeat>(env.body))
    loop_->send(peer, msg::encode(msg::reply_to(
                          env, self_name_, msg::error{msg::error_code::permission_denied, why})));
  return false;
}

void wire_endpoint::on_frame(const std::string& peer, const zmq::message_t& frame,
                             transport::clock::time_point received) {
  std::optional<sender_key> key;
  if (keys_) {
    key = authenticate(frame);
    if (!key) return;  // unknown, revoked or expired: no answer
  }
  auto result = msg::decode(frame.data(), frame.size(), limits_);
  if (auto* failure = std::get_if<msg::decode_failure>(&result)) {
    ++malformed_;
    spdlog::debug("dropped a bad frame ({} bytes): {} {}", frame.size(), failure->message,
                  msg::printable(failure->detail));
    if (role_ == role::router_bind)
      loop_->send(peer, msg::encode(msg::failure_reply(*failure, self_name_)));
    return;
  }
  auto& env = std::get<msg::envelope>(result);
  const auto fault = faults_.meet(fault_direction::inbound, env.body.index());
  if (fault && fault->action == fault_action::drop) return;
  if (fault && fault->action == fault_action::delay) {
    faults_.after(fault->delay,
                  [this, peer, env, key] { accept(peer, env, transport::clock::now(), key); });
    return;
  }
  if (fault && fault->action == fault_action::duplicate) accept(peer, env, received, key);
  const bool prompt = !answered_elsewhere(env.body);
  if (accept(peer, std::move(env), received, std::move(key)) && prompt)
    loop_->expect_prompt_reply();
}

bool wire_endpoint::accept(const std::string& peer, msg::envelope env,
                           transport::clock::time_point received, std::optional<sender_key> key) {
  // The endpoint's own answers below go straight to the loop, not through send(): they must
  // not release another request of the peer's budget.
  const auto& route = routes_[env.body.index()];
  if (!route.handler) {
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
  if (key && !permitted(peer, env, route, *key)) return false;
  if (std::holds_alternative<msg::heartbeat>(env.body)) {
    caf::anon_send<caf::message_priority::high>(
        route.handler, inbound{peer, std::move(env), received, std::move(key)});
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
  caf::anon_send(route.handler, inbound{peer, std::move(env), received, std::move(key)});
  return request;
}

}  // namespace troupe::actors
