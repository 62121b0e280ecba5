// The node agent against a scripted head: a ROUTER socket in the test plays the head.
#define BOOST_TEST_MODULE node_agent
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <filesystem>
#include <zmq.hpp>

#include "actors/atoms.hpp"
#include "actors/node_agent/node_agent.hpp"
#include "messages/print.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

struct received {
  std::string peer;
  msg::envelope env;
};

struct scripted_head {
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
  std::string endpoint;

  scripted_head() {
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:0");
    endpoint = router.get(zmq::sockopt::last_endpoint);
  }

  // The next message whose body holds `T`, skipping others; fails the test after 5 s.
  template <class T>
  received next() {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, 100ms) == 0) continue;
      zmq::message_t peer, frame;
      (void)router.recv(peer);
      (void)router.recv(frame);
      auto decoded = msg::decode(frame.data(), frame.size());
      auto* env = std::get_if<msg::envelope>(&decoded);
      BOOST_TEST_REQUIRE(env != nullptr);
      if (std::holds_alternative<T>(env->body)) return {peer.to_string(), *env};
    }
    BOOST_FAIL("the agent sent nothing of the expected kind within 5 s");
    return {};
  }

  void send(const received& to, msg::body body) {
    router.send(zmq::buffer(to.peer), zmq::send_flags::sndmore);
    router.send(zmq::buffer(msg::encode(msg::reply_to(to.env, "head", std::move(body)))));
  }
};

struct fixture {
  scripted_head head;
  std::string dir;
  std::shared_ptr<host::data_dir> data;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  zmq::context_t context{1};
  actors::wire_endpoint_ptr endpoint;
  std::atomic<int> exit_code{-1};
  caf::actor agent;

  fixture() {
    char tmpl[] = "/tmp/troupe-agent-XXXXXX";
    dir = ::mkdtemp(tmpl);
    data = std::make_shared<host::data_dir>(dir);
    system = std::make_unique<caf::actor_system>(cfg);
    endpoint = std::make_shared<actors::wire_endpoint>(
        context, actors::wire_endpoint::role::dealer_connect, head.endpoint, msg::decode_limits{},
        "agent");
    node_agent::node_agent_deps deps;
    deps.endpoint = endpoint;
    deps.data = data;
    deps.node_id = data->node_id();
    deps.incarnation = data->next_incarnation();
    deps.name = "node-a";
    deps.resources = {2, 1024, {}};
    deps.register_retry_ms = 20;
    deps.request_exit = [this](int code) { exit_code = code; };
    agent = node_agent::spawn_node_agent(*system, std::move(deps));
    endpoint->route_reply<msg::register_node_reply>(agent);
    endpoint->route_reply<msg::heartbeat_rejected>(agent);
    endpoint->route_reply<msg::error>(agent);
    endpoint->start();
  }

  ~fixture() {
    caf::anon_send_exit(agent, caf::exit_reason::user_shutdown);
    endpoint->stop();
    system.reset();
    std::filesystem::remove_all(dir);
  }

  // Registers the agent (answering its first registration); returns that registration.
  msg::register_node_request registered() {
    auto request = head.next<msg::register_node_request>();
    head.send(request, msg::register_node_reply{50, false});
    return std::get<msg::register_node_request>(request.env.body);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(node_agent)

BOOST_FIXTURE_TEST_CASE(it_registers_then_heartbeats_with_a_growing_sequence, fixture) {
  auto request = registered();
  BOOST_TEST(request.name == "node-a");
  BOOST_TEST(request.incarnation == 1u);
  BOOST_TEST(request.resources.cpus == 2.0);
  auto first = std::get<msg::heartbeat>(head.next<msg::heartbeat>().env.body);
  auto second = std::get<msg::heartbeat>(head.next<msg::heartbeat>().env.body);
  BOOST_TEST(first.node_id == request.node_id);
  BOOST_TEST(first.incarnation == 1u);
  BOOST_TEST(second.sequence == first.sequence + 1);
}

BOOST_FIXTURE_TEST_CASE(an_unanswered_registration_is_retried_unchanged, fixture) {
  auto first =
      std::get<msg::register_node_request>(head.next<msg::register_node_request>().env.body);
  auto again =
      std::get<msg::register_node_request>(head.next<msg::register_node_request>().env.body);
  BOOST_TEST(again.incarnation == first.incarnation);
  BOOST_TEST(again.node_id == first.node_id);
}

BOOST_FIXTURE_TEST_CASE(declared_dead_it_registers_a_new_incarnation, fixture) {
  registered();
  auto beat = head.next<msg::heartbeat>();
  head.send(beat, msg::heartbeat_rejected{msg::heartbeat_reject_reason::declared_dead, 1});
  auto request = head.next<msg::register_node_request>();
  BOOST_TEST(std::get<msg::register_node_request>(request.env.body).incarnation == 2u);
  head.send(request, msg::register_node_reply{50, false});
  auto next = std::get<msg::heartbeat>(head.next<msg::heartbeat>().env.body);
  BOOST_TEST(next.incarnation == 2u);
  BOOST_TEST(next.sequence == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_node_registers_again_as_the_same_incarnation, fixture) {
  registered();
  auto beat = head.next<msg::heartbeat>();
  head.send(beat, msg::heartbeat_rejected{msg::heartbeat_reject_reason::unknown_node, 0});
  auto request = head.next<msg::register_node_request>();
  BOOST_TEST(std::get<msg::register_node_request>(request.env.body).incarnation == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_stale_incarnation_stops_the_daemon, fixture) {
  registered();
  auto beat = head.next<msg::heartbeat>();
  head.send(beat, msg::heartbeat_rejected{msg::heartbeat_reject_reason::stale_incarnation, 7});
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (exit_code == -1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST(exit_code == 1);
}

BOOST_FIXTURE_TEST_CASE(shutdown_deregisters_the_current_incarnation, fixture) {
  auto request = registered();
  head.next<msg::heartbeat>();
  caf::scoped_actor self{*system};
  bool answered = false;
  self->request(agent, 5s, actors::shutdown_atom::value)
      .receive([&](bool) { answered = true; }, [](caf::error&) {});
  BOOST_TEST(answered);
  auto bye = std::get<msg::deregister_node>(head.next<msg::deregister_node>().env.body);
  BOOST_TEST(bye.node_id == request.node_id);
  BOOST_TEST(bye.incarnation == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
