// Membership publishes every change of a node to its subscribers, in order, and a backlog of
// requests fakes no silence: a membership actor with a store that always succeeds, driven
// over its real endpoint by raw clients.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <thread>

#include "actors/atoms.hpp"
#include "actors/membership/membership_actor.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using membership::node_event;
using msg::node_state;
using kind = node_event::kind;

namespace {

caf::behavior store_that_succeeds() {
  return {
      [](actors::store_atom, const store::store_write&) {},
      [](actors::store_atom, actors::confirm_atom, const store::store_write&) { return true; },
  };
}

// One scheduler thread, so that a test can keep membership off the CPU with another actor.
struct one_worker : caf::actor_system_config {
  one_worker() { set("scheduler.max-threads", 1); }
};

struct fixture {
  one_worker cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor subscriber{system};
  zmq::context_t context{1};
  actors::wire_endpoint_ptr endpoint =
      std::make_shared<actors::wire_endpoint>(context, actors::wire_endpoint::role::router_bind,
                                              "tcp://127.0.0.1:0", msg::decode_limits{}, "head");
  caf::actor store = system.spawn(store_that_succeeds);
  caf::actor members;
  transport::request_client client{endpoint->endpoint(), "test"};

  explicit fixture(uint32_t heartbeat_interval_ms = 200) {
    membership::membership_deps deps;
    deps.heartbeat_interval_ms = heartbeat_interval_ms;
    deps.endpoint = endpoint;
    deps.store = store;
    deps.self_name = "head";
    members = membership::spawn_membership(system, std::move(deps));
    endpoint->route<msg::register_node_request>(members, {msg::key_role::node});
    endpoint->route<msg::heartbeat>(members, {msg::key_role::node});
    endpoint->route<msg::deregister_node>(members, {msg::key_role::node});
    endpoint->route<msg::drain_node_request>(members, {msg::key_role::admin});
    endpoint->route<msg::remove_node_request>(members, {msg::key_role::admin});
    endpoint->start();
  }
  ~fixture() {
    endpoint->stop();
    caf::anon_send_exit(members, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  }

  msg::node_list_reply subscribe() {
    msg::node_list_reply snapshot;
    subscriber
        ->request(members, 5s, actors::subscribe_atom::value,
                  caf::actor_cast<caf::actor>(subscriber))
        .receive([&](msg::node_list_reply& nodes) { snapshot = std::move(nodes); },
                 [&](caf::error& e) { BOOST_FAIL("subscribe failed: " << system.render(e)); });
    return snapshot;
  }
  // Sends `body` and waits for the head's answer (none for a deregistration).
  void call(msg::body body) {
    if (std::holds_alternative<msg::deregister_node>(body)) {
      client.send_raw(msg::encode(msg::envelope{msg::protocol_version, 1, "test", body}));
      return;
    }
    auto reply = client.call(std::move(body), 5s);
    BOOST_TEST_REQUIRE(reply.has_value());
    BOOST_TEST_REQUIRE(!std::holds_alternative<msg::error>(reply->body));
  }
  node_event next_event() {
    node_event event{};
    subscriber->receive([&](const node_event& e) { event = e; },
                        caf::after(5s) >> [&] { BOOST_FAIL("no node event within 5 s"); });
    return event;
  }
  // Returns once membership has handled everything queued before, high priority included.
  void queue_drained() {
    caf::scoped_actor barrier{system};
    for (int round = 0; round < 2; ++round)
      barrier
          ->request(members, 120s, actors::subscribe_atom::value,
                    caf::actor_cast<caf::actor>(barrier))
          .receive([](msg::node_list_reply&) {},
                   [&](caf::error& e) { BOOST_FAIL("no answer: " << system.render(e)); });
  }
  void expect_no_event() {
    for (bool more = true; more;)
      subscriber->receive(
          [](const node_event& e) { BOOST_FAIL("unexpected: node-a went " << e.change.to); },
          caf::after(0ms) >> [&] { more = false; });
  }
  // The next event must be `what`, from `from` (nullopt: a node not seen before) to `to`.
  void expect(kind what, std::optional<node_state> from, node_state to) {
    auto event = next_event();
    BOOST_TEST(static_cast<int>(event.what) == static_cast<int>(what));
    BOOST_TEST(event.change.name == "node-a");
    BOOST_TEST(event.change.from.has_value() == from.has_value());
    if (from && event.change.from) BOOST_TEST(*event.change.from == *from);
    BOOST_TEST(event.change.to == to);
  }
};

// node-a's heartbeats every 100 ms from a thread of its own, until stop().
class heartbeating {
 public:
  explicit heartbeating(const std::string& endpoint)
      : thread_([this, endpoint] {
          transport::request_client socket(endpoint, "node-a");
          for (uint64_t seq = 1; beating_; ++seq) {
            socket.send_raw(msg::encode(msg::envelope{msg::protocol_version, seq, "node-a",
                                                      msg::heartbeat{"a", 1, seq, {}, {}}}));
            std::this_thread::sleep_for(100ms);
          }
        }) {}
  ~heartbeating() { stop(); }
  void stop() {
    beating_ = false;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> beating_{true};
  std::thread thread_;
};

// Nodes that need not heartbeat during a test: a minute's interval is expected.
struct patient_head : fixture {
  patient_head() : fixture(60000) {}
};

msg::register_node_request node_a(uint64_t incarnation) {
  msg::register_node_request r;
  r.node_id = "a";
  r.name = "node-a";
  r.incarnation = incarnation;
  r.resources = {4, 8192, {}};
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(membership_events)

BOOST_FIXTURE_TEST_CASE(a_subscriber_sees_every_change_of_a_node_in_order, patient_head) {
  BOOST_TEST(subscribe().nodes.empty());
  call(node_a(1));
  expect(kind::joined, std::nullopt, node_state::alive);
  call(msg::drain_node_request{"node-a", true});
  expect(kind::drained, node_state::alive, node_state::draining);
  call(msg::drain_node_request{"node-a", false});
  expect(kind::undrained, node_state::draining, node_state::alive);
  call(msg::deregister_node{"a", 1, "test"});
  expect(kind::state_changed, node_state::alive, node_state::left);
  call(node_a(2));
  expect(kind::joined, node_state::left, node_state::alive);
  call(msg::deregister_node{"a", 2, "test"});
  expect(kind::state_changed, node_state::alive, node_state::left);
  call(msg::remove_node_request{"node-a"});
  expect(kind::removed, node_state::left, node_state::left);
}

BOOST_FIXTURE_TEST_CASE(a_subscriber_sees_a_silent_node_become_suspect_then_dead, fixture) {
  subscribe();
  call(node_a(1));
  expect(kind::joined, std::nullopt, node_state::alive);
  expect(kind::state_changed, node_state::alive, node_state::suspect);
  expect(kind::state_changed, node_state::suspect, node_state::dead);
}

BOOST_FIXTURE_TEST_CASE(a_late_subscriber_gets_the_nodes_it_missed_then_their_changes,
                        patient_head) {
  call(node_a(1));
  auto snapshot = subscribe();
  BOOST_TEST_REQUIRE(snapshot.nodes.size() == 1u);
  BOOST_TEST(snapshot.nodes[0].name == "node-a");
  call(msg::deregister_node{"a", 1, "test"});
  expect(kind::state_changed, node_state::alive, node_state::left);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(membership_backlog)

BOOST_FIXTURE_TEST_CASE(a_backlog_of_requests_in_front_of_the_check_raises_no_suspicion, fixture) {
  subscribe();
  call(node_a(1));
  expect(kind::joined, std::nullopt, node_state::alive);
  heartbeating node(endpoint->endpoint());
  // Requests straight into the mailbox, doubled until they keep the actor busy for 1.5 s:
  // longer than a heartbeating node may stay silent before it is declared dead.
  double busy_s = 0;
  for (size_t n = 100000; busy_s < 1.5 && n <= 3200000; n *= 2) {
    auto start = std::chrono::steady_clock::now();
    actors::inbound request{
        "nobody", msg::envelope{msg::protocol_version, 1, "flood", msg::cluster_status_request{}},
        start, std::nullopt};
    for (size_t i = 0; i < n; ++i) caf::anon_send(members, request);
    queue_drained();
    busy_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST_MESSAGE(n << " queued requests kept membership busy for " << busy_s << " s");
  }
  node.stop();
  expect_no_event();
}

BOOST_FIXTURE_TEST_CASE(a_membership_kept_off_the_cpu_raises_no_suspicion, fixture) {
  subscribe();
  call(node_a(1));
  expect(kind::joined, std::nullopt, node_state::alive);
  heartbeating node(endpoint->endpoint());
  // Holds the only scheduler thread for 1.5 s while the socket thread reads heartbeats, as
  // a loaded machine may; the process itself runs, so there is no stall to forgive.
  auto hog = system.spawn([]() -> caf::behavior {
    return {[](int ms) {
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
      while (std::chrono::steady_clock::now() < until) {
      }
    }};
  });
  caf::anon_send(hog, 1500);
  queue_drained();
  node.stop();
  caf::anon_send_exit(hog, caf::exit_reason::user_shutdown);
  expect_no_event();
}

BOOST_AUTO_TEST_SUITE_END()
