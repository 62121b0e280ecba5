// A DEALER socket loop's frames sent before its connection is up: dropped by default, kept
// until the connection is up with queue_until_connected (a replica's first request to its node).
#include <boost/test/unit_test.hpp>

#include <future>
#include <memory>
#include <thread>

#include "cluster/transport/socket_loop.hpp"

using namespace troupe::transport;
using namespace std::chrono_literals;

namespace {

// A loopback port nothing listens on now: bound by a ZeroMQ socket of a context of its own,
// whose end waits until the socket is closed.
std::string free_endpoint() {
  zmq::context_t context(1);
  zmq::socket_t probe(context, zmq::socket_type::router);
  probe.set(zmq::sockopt::linger, 0);
  probe.bind("tcp://127.0.0.1:0");
  return probe.get(zmq::sockopt::last_endpoint);
}

// Sends one frame from a DEALER before a ROUTER binds its endpoint; whether the ROUTER got it
// within 2 s of binding.
bool early_frame_arrives(bool queue_until_connected) {
  const auto endpoint = free_endpoint();
  zmq::context_t context(1);
  socket_options options;
  options.linger_ms = 0;
  options.queue_until_connected = queue_until_connected;
  socket_loop dealer(context, socket_loop::role::dealer_connect, endpoint, options,
                     [](const std::string&, const zmq::message_t&, clock::time_point) {});
  dealer.start();
  dealer.send({}, "early");
  // The dealer's thread has queued or dropped the frame before the ROUTER exists.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (dealer.counters().frames_out + dealer.counters().dropped_out == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  std::promise<std::string> got;
  auto arrived = got.get_future();
  socket_loop router(context, socket_loop::role::router_bind, endpoint, socket_options{},
                     [&got](const std::string&, const zmq::message_t& frame, clock::time_point) {
                       got.set_value(frame.to_string());
                     });
  router.start();
  const bool ok = arrived.wait_for(2s) == std::future_status::ready && arrived.get() == "early";
  router.stop();
  dealer.stop();
  return ok;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dealer_queueing)

BOOST_AUTO_TEST_CASE(a_frame_sent_before_the_connection_is_up_is_delivered_once_it_is_when_asked) {
  BOOST_TEST(early_frame_arrives(true));
}

BOOST_AUTO_TEST_CASE(a_frame_sent_before_the_connection_is_up_is_dropped_by_default) {
  BOOST_TEST(!early_frame_arrives(false));
}

BOOST_AUTO_TEST_SUITE_END()
