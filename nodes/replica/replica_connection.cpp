#include "nodes/replica/replica_connection.hpp"

namespace troupe::replica {
namespace {

transport::socket_options options_for(const security::credential& link) {
  transport::socket_options options;
  options.curve = security::client_keys(link);
  options.linger_ms = 0;
  options.queue_until_connected = true;  // the first resolution leaves as the process starts
  return options;
}

}  // namespace

replica_connection::replica_connection(const security::credential& link, std::string sender,
                                       std::function<void()> on_resolve_now)
    : sender_(std::move(sender)),
      on_resolve_now_(std::move(on_resolve_now)),
      loop_(context_, transport::socket_loop::role::dealer_connect, link.head_address,
            options_for(link),
            [this](const std::string&, const zmq::message_t& frame, transport::clock::time_point) {
              on_frame(frame);
            }) {
  loop_.start();
}

replica_connection::~replica_connection() { loop_.stop(); }

std::optional<msg::envelope> replica_connection::call(msg::body body,
                                                      std::chrono::milliseconds timeout) {
  msg::envelope env;
  env.request_id = next_id_++;
  env.sender = sender_;
  env.body = std::move(body);
  std::future<msg::envelope> answer;
  {
    std::lock_guard lock(mutex_);
    answer = waiting_[env.request_id].get_future();
  }
  loop_.send({}, msg::encode(env));
  const bool answered = answer.wait_for(timeout) == std::future_status::ready;
  std::lock_guard lock(mutex_);
  waiting_.erase(env.request_id);
  if (!answered) return std::nullopt;
  return answer.get();
}

void replica_connection::on_frame(const zmq::message_t& frame) {
  auto decoded = msg::decode(frame.data(), frame.size());
  auto* env = std::get_if<msg::envelope>(&decoded);
  if (!env) return;  // a node that cannot be read is not answered
  const auto* m = std::get_if<msg::inference_message>(&env->body);
  if (m && std::holds_alternative<msg::resolve_service_request>(m->body)) return on_resolve_now_();
  std::lock_guard lock(mutex_);
  auto it = waiting_.find(env->request_id);
  if (it != waiting_.end()) it->second.set_value(std::move(*env));
}

}  // namespace troupe::replica
