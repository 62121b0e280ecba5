#include "cluster/security/zap_handler.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "cluster/security/key_registry.hpp"

namespace troupe::security {
namespace {

constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";

}  // namespace

zap_handler::zap_handler(zmq::context_t& context, std::shared_ptr<const key_lookup> keys,
                         std::function<void(const std::string&)> on_failure)
    : keys_(std::move(keys)),
      on_failure_(std::move(on_failure)),
      socket_(context, zmq::socket_type::rep) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(zap_endpoint);  // throws when another handler holds it
  thread_ = std::thread([this] { run(); });
}

zap_handler::~zap_handler() {
  stopping_ = true;
  thread_.join();
}

void zap_handler::run() {
  try {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    while (!stopping_) {
      // Woken every 100 ms to notice stopping_; a handshake waits for nothing else.
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) > 0) answer();
    }
  } catch (const std::exception& e) {
    if (!stopping_) on_failure_(std::string("the ZAP handler failed: ") + e.what());
  }
  socket_.close();
}

void zap_handler::answer() {
  // Request: version, request id, domain, address, routing id, mechanism, credentials...
  std::vector<zmq::message_t> request;
  do {
    request.emplace_back();
    (void)socket_.recv(request.back(), zmq::recv_flags::none);
  } while (request.back().more());

  std::string status = "400", text = "unknown key", user_id;
  if (request.size() >= 7 && request[0].to_string() == "1.0" && request[5].to_string() == "CURVE" &&
      request[6].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, request[6].data<uint8_t>(), 32);
    if (auto key = keys_->admit(z85, unix_now_ms())) {
      status = "200";
      text = "OK";
      user_id = key->key_id;
    } else {
      spdlog::debug("refused a connection from {} with an unknown, revoked or expired key",
                    request[3].to_string());
    }
  }
  const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
  socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(status), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
  socket_.send(zmq::const_buffer{}, zmq::send_flags::none);
}

}  // namespace troupe::security
