#include "nodes/replica/prediction_socket.hpp"

#include <stdexcept>

#include "cluster/host/resources.hpp"

namespace troupe::replica {
namespace {

// The head's key, the one key a replica's prediction socket admits.
class head_key_only : public security::key_lookup {
 public:
  explicit head_key_only(const std::string& public_key) {
    key_.key_id = security::key_id_of(public_key);
    key_.public_key = public_key;
    key_.label = "head";
  }
  std::optional<msg::key_info> admit(const std::string& public_key, int64_t) const override {
    if (public_key != key_.public_key) return std::nullopt;
    return key_;
  }
  std::optional<msg::key_info> usable(const std::string& key_id, int64_t) const override {
    if (key_id != key_.key_id) return std::nullopt;
    return key_;
  }

 private:
  msg::key_info key_;
};

transport::socket_options options_for(const security::key_pair& keys) {
  transport::socket_options options;
  options.curve = transport::curve_keys{keys.public_key, keys.secret_key, ""};
  options.linger_ms = 0;
  return options;
}

// tcp://0.0.0.0:PORT as the head reaches it: at this host's name, which its node registered.
std::string reachable(const std::string& bound) {
  return "tcp://" + host::host_name() + bound.substr(bound.rfind(':'));
}

}  // namespace

prediction_socket::prediction_socket(
    const std::string& head_public_key, std::string sender,
    std::function<void(const std::string&, msg::envelope)> on_predict,
    std::function<void()> after_requests, std::function<void(const std::string&)> on_failure,
    std::optional<config::port_range> ports)
    : sender_(std::move(sender)),
      on_predict_(std::move(on_predict)),
      keys_(security::generate_key_pair()),
      zap_(context_, std::make_shared<head_key_only>(head_public_key), std::move(on_failure)) {
  auto on_frame = [this](const std::string& peer, const zmq::message_t& frame,
                         transport::clock::time_point) { this->on_frame(peer, frame); };
  const auto bind = [&](uint32_t port) {
    loop_ = std::make_unique<transport::socket_loop>(
        context_, transport::socket_loop::role::router_bind, "tcp://*:" + std::to_string(port),
        options_for(keys_), on_frame);
  };
  if (!ports) {
    bind(0);
  } else {
    for (uint32_t port = ports->low; port <= ports->high && !loop_; ++port) {
      try {
        bind(port);
      } catch (const zmq::error_t&) {  // taken: the next one
      }
    }
    if (!loop_)
      throw std::runtime_error("prediction socket: no free port in " + std::to_string(ports->low) +
                               "-" + std::to_string(ports->high));
  }
  endpoint_ = reachable(loop_->endpoint());
  loop_->set_after_read(std::move(after_requests));
  loop_->start();
}

prediction_socket::~prediction_socket() { loop_->stop(); }

void prediction_socket::answer(const std::string& peer, const msg::envelope& request,
                               msg::body body) {
  loop_->send(peer, msg::encode(msg::reply_to(request, sender_, std::move(body))));
}

void prediction_socket::on_frame(const std::string& peer, const zmq::message_t& frame) {
  auto decoded = msg::decode(frame.data(), frame.size());
  auto* env = std::get_if<msg::envelope>(&decoded);
  if (!env) return;  // the head that cannot be read is not answered
  const auto* m = std::get_if<msg::inference_message>(&env->body);
  if (m && std::holds_alternative<msg::predict_request>(m->body))
    return on_predict_(peer, std::move(*env));
  answer(peer, *env,
         msg::error{msg::error_code::invalid_request,
                    "a replica's prediction socket answers PredictRequests only"});
}

}  // namespace troupe::replica
