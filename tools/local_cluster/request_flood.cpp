#include "tools/local_cluster/request_flood.hpp"

#include "messages/codec.hpp"

namespace troupe::local {

namespace {

std::string request_frame(const msg::body& request) {
  msg::envelope env;
  env.request_id = 1;  // the same for every request: the head must cope
  env.sender = "flood";
  env.body = request;
  return msg::encode(env);
}

}  // namespace

request_flood::request_flood(const std::string& endpoint, const msg::body& request, int sockets,
                             transport::curve_keys keys)
    : frame_(request_frame(request)), keys_(std::move(keys)) {
  for (int i = 0; i < sockets; ++i) threads_.emplace_back([this, endpoint] { run(endpoint); });
}

request_flood::~request_flood() {
  stopping_ = true;
  for (auto& t : threads_) t.join();
}

request_flood::counts request_flood::so_far() const { return {sent_, answered_, overloaded_}; }

void request_flood::run(const std::string& endpoint) {
  zmq::socket_t socket(context_, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  transport::set_client_curve(socket, keys_);
  socket.connect(endpoint);
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0};
  while (!stopping_) {
    // Wait (briefly, to notice stopping_) until there is room to send or a reply to read.
    zmq::poll(&item, 1, std::chrono::milliseconds(10));
    while (socket.send(zmq::buffer(frame_), zmq::send_flags::dontwait)) ++sent_;
    zmq::message_t reply;
    while (socket.recv(reply, zmq::recv_flags::dontwait)) {
      ++answered_;
      auto decoded = msg::decode(reply.data(), reply.size());
      auto* env = std::get_if<msg::envelope>(&decoded);
      auto* err = env ? std::get_if<msg::error>(&env->body) : nullptr;
      if (err && err->code == msg::error_code::overloaded) ++overloaded_;
    }
  }
}

}  // namespace troupe::local
