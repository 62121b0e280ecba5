#include "cluster/transport/request_client.hpp"

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
  msg::envelope request;
  request.request_id = next_request_id_++;
  request.sender = sender_;
  request.body = std::move(body);
  send_raw(msg::encode(request));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto result = receive(left);
    if (!result) return std::nullopt;
    if (auto* env = std::get_if<msg::envelope>(&*result)) {
      // Request id 0: the peer could not read our header, so its error is about this request.
      if (env->request_id == request.request_id ||
          (env->request_id == 0 && std::holds_alternative<msg::error>(env->body)))
        return std::move(*env);
      continue;  // a late reply to an earlier request
    }
    auto& failure = std::get<msg::decode_failure>(*result);
    if (failure.request_id && *failure.request_id != request.request_id) continue;
    msg::envelope reply;
    reply.request_id = request.request_id;
    reply.body = msg::error{msg::error_code::invalid_request,
                            "undecodable reply from " + endpoint_ + ": " + failure.message};
    return reply;
  }
}

}  // namespace troupe::transport
