// A replica's socket for the head's predictions (docs/protocol.md, "Inference messages"): a
// ROUTER bound on every interface at a free port (the first free one of `ports` when given), with a
// CURVE key pair of its own, whose handshake admits the head's public key alone. The replica names
// it (tcp://<its host name>:PORT, the address its node registered with) and its public key in every
// ReplicaReport; the head connects to it and sends PredictRequests, each answered on the connection
// it came on. Plain C++, thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "cluster/security/curve_keys.hpp"
#include "cluster/security/zap_handler.hpp"
#include "cluster/transport/socket_loop.hpp"
#include "config/port_range.hpp"
#include "messages/codec.hpp"

namespace troupe::replica {

class prediction_socket {
 public:
  // `on_predict` gets each PredictRequest, with the connection to answer it on, on the socket's
  // thread; it must not block. `after_requests` runs there after each read that gave it some (up
  // to 256), so that they can be worked on together; the answers it sends leave as it returns.
  // A ZAP handler that fails calls `on_failure` (it must stop the
  // process: no connection may be admitted unchecked). Throws std::runtime_error when it cannot
  // bind (no port of `ports` is free).
  prediction_socket(const std::string& head_public_key, std::string sender,
                    std::function<void(const std::string& peer, msg::envelope)> on_predict,
                    std::function<void()> after_requests,
                    std::function<void(const std::string& why)> on_failure,
                    std::optional<config::port_range> ports = std::nullopt);
  ~prediction_socket();
  prediction_socket(const prediction_socket&) = delete;
  prediction_socket& operator=(const prediction_socket&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  const std::string& public_key() const { return keys_.public_key; }

  // Answers `request`, which came from `peer`, with `body`.
  void answer(const std::string& peer, const msg::envelope& request, msg::body body);

 private:
  void on_frame(const std::string& peer, const zmq::message_t& frame);

  std::string sender_;
  std::function<void(const std::string&, msg::envelope)> on_predict_;
  security::key_pair keys_;
  zmq::context_t context_{1};
  security::zap_handler zap_;  // bound before the socket: nothing is admitted unchecked
  std::unique_ptr<transport::socket_loop> loop_;
  std::string endpoint_;
};

}  // namespace troupe::replica
