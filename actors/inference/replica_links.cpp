#include "actors/inference/replica_links.hpp"

namespace troupe::inference {

replica_links::replica_links(std::optional<transport::curve_keys> keys, msg::decode_limits limits,
                             answer_fn on_answer)
    : keys_(std::move(keys)), limits_(limits), on_answer_(std::move(on_answer)) {}

bool replica_links::link(const std::string& attempt_id, const std::string& endpoint,
                         const std::string& public_key) {
  std::unique_ptr<transport::socket_loop> closed;  // stopped outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  auto known = links_.find(attempt_id);
  if (known != links_.end() && known->second.endpoint == endpoint &&
      known->second.public_key == public_key)
    return false;
  transport::socket_options options;
  options.linger_ms = 0;
  options.queue_until_connected = true;  // the first prediction may leave before the handshake
  if (keys_)
    options.curve = transport::curve_keys{keys_->public_key, keys_->secret_key, public_key};
  auto loop = std::make_unique<transport::socket_loop>(
      context_, transport::socket_loop::role::dealer_connect, endpoint, options,
      [this, attempt_id](const std::string&, const zmq::message_t& frame,
                         transport::clock::time_point) {
        auto decoded = msg::decode(frame.data(), frame.size(), limits_);
        // A replica that cannot be read is not answered (its request times out).
        if (auto* env = std::get_if<msg::envelope>(&decoded))
          on_answer_(attempt_id, std::move(*env));
      });
  const bool replaced = known != links_.end();
  if (replaced) {
    closed = std::move(known->second.loop);
    links_.erase(known);
  }
  auto& entry = links_[attempt_id];
  entry = {endpoint, public_key, std::move(loop)};
  entry.loop->start();
  return replaced;
}

void replica_links::drop(const std::string& attempt_id) {
  std::unique_ptr<transport::socket_loop> closed;  // stopped outside the lock
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = links_.find(attempt_id);
  if (it == links_.end()) return;
  closed = std::move(it->second.loop);
  links_.erase(it);
}

bool replica_links::send(const std::string& attempt_id, std::string bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = links_.find(attempt_id);
  if (it == links_.end()) return false;
  it->second.loop->send({}, std::move(bytes));
  return true;
}

}  // namespace troupe::inference
