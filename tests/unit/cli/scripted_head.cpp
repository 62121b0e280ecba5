#include "tests/unit/cli/scripted_head.hpp"

namespace troupe::testing {

scripted_head::scripted_head(std::vector<msg::body> replies, size_t unanswered)
    : replies_(std::move(replies)), unanswered_(unanswered) {
  router_.set(zmq::sockopt::linger, 0);
  const auto server = security::generate_key_pair();
  router_.set(zmq::sockopt::curve_server, 1);
  router_.set(zmq::sockopt::curve_secretkey, server.secret_key);
  router_.bind("tcp://127.0.0.1:0");
  client_ = security::new_credential(msg::key_role::admin, server.public_key, "");
  endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread([this] { serve(); });
}

scripted_head::~scripted_head() {
  stop_ = true;
  thread_.join();
}

std::vector<msg::body> scripted_head::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void scripted_head::serve() {
  size_t answered = 0;
  while (!stop_) {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) == 0) continue;
    zmq::message_t peer, frame;
    (void)router_.recv(peer);
    (void)router_.recv(frame);
    auto decoded = msg::decode(frame.data(), frame.size());
    auto* request = std::get_if<msg::envelope>(&decoded);
    if (!request) continue;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(request->body);
      if (requests_.size() <= unanswered_) continue;
    }
    if (answered == replies_.size()) continue;
    router_.send(peer, zmq::send_flags::sndmore);
    router_.send(zmq::buffer(msg::encode(msg::reply_to(*request, "head", replies_[answered++]))));
  }
}

cli::session session_with(const scripted_head& head, bool json, std::chrono::milliseconds timeout) {
  cli::cli_config config;
  config.timeout = timeout;
  config.head = head.endpoint();
  config.credential = head.client_credential();
  config.json = json;
  return cli::session(config);
}

}  // namespace troupe::testing
