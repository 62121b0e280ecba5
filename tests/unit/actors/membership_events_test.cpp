// Membership publishes every change of a node to its subscribers, in order: a membership
// actor with a store that always succeeds, driven over its real endpoint by a raw client.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

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
      [](actors::store_atom, const store::node_record&) { return true; },
      [](actors::store_atom, actors::remove_atom, const std::string&) { return true; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
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
    endpoint->route<msg::register_node_request>(members);
    endpoint->route<msg::heartbeat>(members);
    endpoint->route<msg::deregister_node>(members);
    endpoint->route<msg::drain_node_request>(members);
    endpoint->route<msg::remove_node_request>(members);
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
