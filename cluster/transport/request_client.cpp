#include "cluster/transport/request_client.hpp"

#include <algorithm>
#include <random>

namespace troupe::transport {

request_client::request_client(std::string endpoint, std::string sender_name,
                               const std::optional<curve_keys>& curve, int linger_ms)
    : endpoint_(std::move(endpoint)),
      sender_(std::move(sender_name)),
      socket_(context_, zmq::socket_type::dealer),
      // Random start so ids of successive CLI runs do not collide at the head.
      next_request_id_(std::random_device{}() | (uint64_t{std::random_device{}()} << 32)) {
  socket_.set(zmq::sockopt::linger, linger_ms);
  if (curve) set_client_curve(socket_, *curve);
  socket_.connect(endpoint_);
}

void request_client::send_raw(const std::string& bytes) {
  socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
}

std::optional<msg::decode_result> request_client::receive(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  zmq::message_t frame;
  (void)socket_.recv(frame, zmq::recv_flags::none);
  // Replies come from the head we asked; allow large ones (a node list of a big cluster).
  msg::decode_limits limits;
  limits.max_frame_bytes = 64 << 20;
  return msg::decode(frame.data(), frame.size(), limits);
}

std::optional<msg::envelope> request_client::call(msg::body body,
                                                  std::chrono::milliseconds timeout) {
  return await(send(std::move(body)), timeout);
}

uint64_t request_client::send(msg::body body) {
  msg::envelope request;
  request.request_id = next_request_id_++;
  request.sender = sender_;
  request.body = std::move(body);
  send_raw(msg::encode(request));
  awaited_.insert(request.request_id);
  return request.request_id;
}

std::optional<msg::envelope> request_client::await(uint64_t id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto it = arrived_.find(id); it != arrived_.end()) {
      auto reply = std::move(it->second);
      arrived_.erase(it);
      awaited_.erase(id);
      return reply;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto result = receive(std::max(left, std::chrono::milliseconds(0)));
    if (!result) {
      awaited_.erase(id);
      return std::nullopt;
    }
    if (auto* env = std::get_if<msg::envelope>(&*result)) {
      // Request id 0: the peer could not read our header, so its error is about this request.
      if (env->request_id == 0 && std::holds_alternative<msg::error>(env->body))
        env->request_id = id;
      if (awaited_.count(env->request_id)) arrived_[env->request_id] = std::move(*env);
      continue;  // else a late reply to a request nobody awaits
    }
    auto& failure = std::get<msg::decode_failure>(*result);
    const auto about = failure.request_id.value_or(id);
    if (!awaited_.count(about)) continue;
    msg::envelope reply;
    reply.request_id = about;
    reply.body = msg::error{msg::error_code::invalid_request,
                            "undecodable reply from " + endpoint_ + ": " + failure.message};
    arrived_[about] = std::move(reply);
  }
}

}  // namespace troupe::transport
