// The head's wire endpoint against a raw client: per-peer request budgets and test faults.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"

using namespace troupe;
using namespace troupe::actors;
using namespace std::chrono_literals;

namespace {

// A head-side endpoint whose heartbeats and status requests go to `inbox`, a test thread's
// actor, and a raw DEALER client.
struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor inbox{system};
  zmq::context_t context{1};
  wire_endpoint head{context, wire_endpoint::role::router_bind, "tcp://127.0.0.1:0",
                     msg::decode_limits{}, "head"};
  transport::request_client client{head.endpoint(), "client"};

  // Passes on what the endpoint routes to `inbox` at normal priority: a blocking actor of
  // CAF 0.17 can miss a normal message that follows a high-priority one.
  caf::actor relay = system.spawn([to = caf::actor_cast<caf::actor>(inbox)]() -> caf::behavior {
    return {[to](const inbound& in) { caf::anon_send(to, in); }};
  });

  // Routes, applies `faults` and starts the endpoint.
  void start(const std::vector<fault>& faults = {}) {
    head.route<msg::heartbeat>(relay, {msg::key_role::node});
    head.route<msg::cluster_status_request>(relay, {msg::key_role::admin});
    for (const auto& f : faults) head.inject(f);
    head.start();
  }
  ~fixture() {
    head.stop();
    caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
  }

  void send(uint64_t request_id, msg::body body) {
    client.send_raw(msg::encode(msg::envelope{msg::protocol_version, request_id, "client", body}));
  }
  void send_heartbeats(std::initializer_list<uint64_t> sequences) {
    for (auto s : sequences) send(s, msg::heartbeat{"node", 1, s, {}, {}});
  }
  // The next `count` messages that reach `inbox`.
  std::vector<inbound> arrivals(size_t count) {
    std::vector<inbound> got;
    for (size_t i = 0; i < count; ++i)
      inbox->receive([&](const inbound& in) { got.push_back(in); },
                     caf::after(5s) >> [&] { BOOST_FAIL("nothing reached the actor in 5 s"); });
    return got;
  }
  std::vector<uint64_t> arrival_ids(size_t count) {
    std::vector<uint64_t> ids;
    for (const auto& in : arrivals(count)) ids.push_back(in.env.request_id);
    return ids;
  }
  // The request id of the next frame the client reads.
  uint64_t next_reply_id() {
    auto frame = client.receive(5s);
    BOOST_TEST_REQUIRE(frame.has_value());
    auto* env = std::get_if<msg::envelope>(&*frame);
    BOOST_TEST_REQUIRE(env != nullptr);
    return env->request_id;
  }
  // The request id of the next frame the client reads, which must be an `overloaded` error.
  uint64_t next_overloaded_id() {
    auto frame = client.receive(5s);
    BOOST_TEST_REQUIRE(frame.has_value());
    auto* env = std::get_if<msg::envelope>(&*frame);
    BOOST_TEST_REQUIRE(env != nullptr);
    auto* err = std::get_if<msg::error>(&env->body);
    BOOST_TEST_REQUIRE(err != nullptr);
    BOOST_TEST(err->code == msg::error_code::overloaded);
    return env->request_id;
  }
};

using ids = std::vector<uint64_t>;

}  // namespace

BOOST_AUTO_TEST_SUITE(request_budget)

BOOST_AUTO_TEST_CASE(a_peer_beyond_its_budget_is_refused_while_another_is_admitted) {
  actors::request_budget budget(2);
  BOOST_TEST(budget.admit("flooder", 1));
  BOOST_TEST(budget.admit("flooder", 1));  // a repeated request id counts again
  BOOST_TEST(!budget.admit("flooder", 2));
  BOOST_TEST(budget.admit("other", 1));
  BOOST_TEST(budget.in_flight("flooder") == 2u);
}

BOOST_AUTO_TEST_CASE(a_sent_reply_frees_the_place_of_its_request_only) {
  actors::request_budget budget(2);
  budget.admit("peer", 7);
  budget.admit("peer", 8);
  budget.release("peer", 9);   // not a request of this peer
  budget.release("other", 7);  // nor of this one
  BOOST_TEST(!budget.admit("peer", 10));
  budget.release("peer", 7);
  BOOST_TEST(budget.in_flight("peer") == 1u);
  BOOST_TEST(budget.admit("peer", 10));
}

BOOST_FIXTURE_TEST_CASE(the_endpoint_answers_overloaded_beyond_a_peers_budget, fixture) {
  start();
  const uint64_t budget = wire_endpoint::requests_in_flight_per_peer;
  for (uint64_t id = 1; id <= budget + 1; ++id) send(id, msg::cluster_status_request{});
  BOOST_TEST(next_overloaded_id() == budget + 1);
  auto admitted = arrivals(budget);
  BOOST_TEST(admitted.front().env.request_id == 1u);
  BOOST_TEST(admitted.back().env.request_id == budget);
  // Heartbeats are not requests: they still pass.
  send_heartbeats({100});
  BOOST_TEST(arrival_ids(1) == ids{100});
  // Answering one request makes room for one more.
  const auto& first = admitted.front();
  head.send(first.peer, msg::reply_to(first.env, "head", msg::cluster_status_reply{}));
  BOOST_TEST(next_reply_id() == 1u);
  send(budget + 2, msg::cluster_status_request{});
  BOOST_TEST(arrival_ids(1) == ids{budget + 2});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(wire_faults)

using dir = fault_direction;
using act = fault_action;

BOOST_FIXTURE_TEST_CASE(the_nth_inbound_message_of_a_kind_is_dropped, fixture) {
  start({fault::on<msg::heartbeat>(dir::inbound, 2, act::drop)});
  send_heartbeats({1, 2, 3});
  BOOST_TEST(arrival_ids(2) == (ids{1, 3}));
}

BOOST_FIXTURE_TEST_CASE(the_nth_inbound_message_of_a_kind_is_duplicated, fixture) {
  start({fault::on<msg::heartbeat>(dir::inbound, 2, act::duplicate)});
  send_heartbeats({1, 2, 3});
  BOOST_TEST(arrival_ids(4) == (ids{1, 2, 2, 3}));
}

BOOST_FIXTURE_TEST_CASE(a_delayed_inbound_message_arrives_after_later_ones, fixture) {
  start({fault::on<msg::heartbeat>(dir::inbound, 1, act::delay, 300ms)});
  send_heartbeats({1, 2, 3});
  BOOST_TEST(arrival_ids(3) == (ids{2, 3, 1}));
}

BOOST_FIXTURE_TEST_CASE(faults_count_only_their_own_kind_and_direction, fixture) {
  start({fault::on<msg::heartbeat>(dir::outbound, 1, act::drop),
         fault::on<msg::cluster_status_request>(dir::inbound, 1, act::drop)});
  send_heartbeats({1});
  BOOST_TEST(arrival_ids(1) == ids{1});
  send(2, msg::cluster_status_request{});
  send(3, msg::cluster_status_request{});
  BOOST_TEST(arrival_ids(1) == ids{3});
}

BOOST_FIXTURE_TEST_CASE(outbound_replies_are_dropped_delayed_and_duplicated, fixture) {
  start({fault::on<msg::cluster_status_reply>(dir::outbound, 1, act::drop),
         fault::on<msg::cluster_status_reply>(dir::outbound, 2, act::delay, 300ms),
         fault::on<msg::cluster_status_reply>(dir::outbound, 3, act::duplicate)});
  send(1, msg::cluster_status_request{});
  auto request = arrivals(1).front();
  for (uint64_t id = 1; id <= 4; ++id) {
    request.env.request_id = id;
    head.send(request.peer, msg::reply_to(request.env, "head", msg::cluster_status_reply{}));
  }
  ids replies;
  for (int i = 0; i < 4; ++i) replies.push_back(next_reply_id());
  BOOST_TEST(replies == (ids{3, 3, 4, 2}));
}

BOOST_AUTO_TEST_SUITE_END()
