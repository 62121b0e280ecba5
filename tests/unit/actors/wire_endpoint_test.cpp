// The head's wire endpoint against a raw client: per-peer request budgets, test faults, and
// what an authenticated frame tells the actor about its key.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include <filesystem>
#include <thread>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/security/curve_keys.hpp"
#include "cluster/security/key_registry.hpp"
#include "cluster/security/zap_handler.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"

using namespace troupe;
using namespace troupe::actors;
using namespace std::chrono_literals;

namespace {

// `inbox`, a test thread's actor, and `relay`, which the endpoints under test route to.
struct actors_fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor inbox{system};
  zmq::context_t context{1};

  // Passes on what the endpoint routes to `inbox` at normal priority: a blocking actor of
  // CAF 0.17 can miss a normal message that follows a high-priority one.
  caf::actor relay = system.spawn([to = caf::actor_cast<caf::actor>(inbox)]() -> caf::behavior {
    return {[to](const inbound& in) { caf::anon_send(to, in); }};
  });
  ~actors_fixture() { caf::anon_send_exit(relay, caf::exit_reason::user_shutdown); }

  // The next `count` messages that reach `inbox`.
  std::vector<inbound> arrivals(size_t count) {
    std::vector<inbound> got;
    for (size_t i = 0; i < count; ++i)
      inbox->receive([&](const inbound& in) { got.push_back(in); },
                     caf::after(5s) >> [&] { BOOST_FAIL("nothing reached the actor in 5 s"); });
    return got;
  }
};

// A head-side endpoint whose heartbeats and status requests go to `inbox`, and a raw DEALER
// client.
struct fixture : actors_fixture {
  wire_endpoint head{context, wire_endpoint::role::router_bind, "tcp://127.0.0.1:0",
                     msg::decode_limits{}, "head"};
  transport::request_client client{head.endpoint(), "client"};

  // Routes, applies `faults` and starts the endpoint.
  void start(const std::vector<fault>& faults = {}) {
    head.route<msg::heartbeat>(relay, {msg::key_role::node});
    head.route<msg::cluster_status_request>(relay, {msg::key_role::admin});
    for (const auto& f : faults) head.inject(f);
    head.start();
  }
  ~fixture() { head.stop(); }

  void send(uint64_t request_id, msg::body body) {
    client.send_raw(msg::encode(msg::envelope{msg::protocol_version, request_id, "client", body}));
  }
  void send_heartbeats(std::initializer_list<uint64_t> sequences) {
    for (auto s : sequences) send(s, msg::heartbeat{"node", 1, s, {}, {}});
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

// A CURVE head endpoint with a ZAP handler and a key registry that knows an admin key and a
// submit key of tenant ml-research. Status requests go to `inbox` from both roles, drain
// requests from admins only.
struct authenticated_fixture : actors_fixture {
  std::filesystem::path dir;
  std::shared_ptr<security::key_registry> keys;
  security::key_pair head_keys = security::generate_key_pair();
  security::key_pair admin_keys = security::generate_key_pair();
  security::key_pair submit_keys = security::generate_key_pair();
  std::unique_ptr<security::zap_handler> zap;
  std::unique_ptr<wire_endpoint> head;

  authenticated_fixture() {
    char tmpl[] = "/tmp/troupe-wire-keys-XXXXXX";
    dir = ::mkdtemp(tmpl);
    keys = std::make_shared<security::key_registry>((dir / "keys.jsonl").string());
    add_key(admin_keys, msg::key_role::admin, "");
    add_key(submit_keys, msg::key_role::submit, "ml-research");
    zap = std::make_unique<security::zap_handler>(
        context, keys, [](const std::string& why) { BOOST_ERROR("ZAP handler failed: " << why); });
    head = std::make_unique<wire_endpoint>(
        context, wire_endpoint::role::router_bind, "tcp://127.0.0.1:0", msg::decode_limits{},
        "head", transport::curve_keys{head_keys.public_key, head_keys.secret_key, ""}, keys);
    head->route<msg::cluster_status_request>(relay, {msg::key_role::admin, msg::key_role::submit});
    head->route<msg::drain_node_request>(relay, {msg::key_role::admin});
    head->start();
  }
  ~authenticated_fixture() {
    head->stop();
    head.reset();
    zap.reset();
    std::filesystem::remove_all(dir);
  }

  void add_key(const security::key_pair& pair, msg::key_role role, const std::string& tenant) {
    msg::key_info k;
    k.key_id = security::key_id_of(pair.public_key);
    k.role = role;
    k.public_key = pair.public_key;
    k.label = msg::to_string(role);
    k.tenant = tenant;
    k.created_at_ms = security::unix_now_ms();
    BOOST_TEST_REQUIRE(!keys->add(k, k.created_at_ms));
  }
  transport::request_client client_of(const security::key_pair& pair) {
    return transport::request_client(
        head->endpoint(), "client",
        transport::curve_keys{pair.public_key, pair.secret_key, head_keys.public_key});
  }
};

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

BOOST_AUTO_TEST_SUITE(prompt_replies)

BOOST_FIXTURE_TEST_CASE(only_a_request_answered_in_this_process_is_followed_by_a_poll_for_its_reply,
                        fixture) {
  head.route<msg::inference_message>(relay, {msg::key_role::admin});
  start();
  // A prediction is answered after a replica's round trip: no poll. A status request is
  // answered here: one poll. Each is sent after the one before reached its actor, so that the
  // loop reads them in two rounds.
  send(1, msg::inference_message{msg::predict_request{"svc", 1, 2, {1.f, 2.f}, "", ""}});
  BOOST_TEST(arrival_ids(1) == ids{1});
  send(2, msg::cluster_status_request{});
  BOOST_TEST(arrival_ids(1) == ids{2});
  const auto& polls = head.counters().prompt_reply_polls;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (polls == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  BOOST_TEST(polls == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sender_keys)

BOOST_FIXTURE_TEST_CASE(a_frame_reaches_its_actor_with_its_keys_role_and_tenant,
                        authenticated_fixture) {
  auto submit = client_of(submit_keys);
  submit.send_raw(msg::encode(
      msg::envelope{msg::protocol_version, 1, "client", msg::cluster_status_request{}}));
  const auto from_submit = arrivals(1).front().sender;
  BOOST_TEST_REQUIRE(from_submit.has_value());
  BOOST_TEST(from_submit->key_id == security::key_id_of(submit_keys.public_key));
  BOOST_TEST(from_submit->role == msg::key_role::submit);
  BOOST_TEST(from_submit->tenant == "ml-research");
  auto admin = client_of(admin_keys);
  admin.send_raw(msg::encode(
      msg::envelope{msg::protocol_version, 2, "client", msg::cluster_status_request{}}));
  const auto from_admin = arrivals(1).front().sender;
  BOOST_TEST_REQUIRE(from_admin.has_value());
  BOOST_TEST(from_admin->role == msg::key_role::admin);
  BOOST_TEST(from_admin->tenant.empty());
}

BOOST_FIXTURE_TEST_CASE(a_submit_key_is_denied_a_request_routed_to_admins_only,
                        authenticated_fixture) {
  auto submit = client_of(submit_keys);
  auto reply = submit.call(msg::drain_node_request{"node-1", true}, 5s);
  BOOST_TEST_REQUIRE(reply.has_value());
  const auto* err = std::get_if<msg::error>(&reply->body);
  BOOST_TEST_REQUIRE(err != nullptr);
  BOOST_TEST(err->code == msg::error_code::permission_denied);
  BOOST_TEST(err->message == "a key of role submit may not send this request");
  // The admin's drain passes: the refusal was the role's, not the kind's.
  auto admin = client_of(admin_keys);
  admin.send_raw(msg::encode(
      msg::envelope{msg::protocol_version, 3, "client", msg::drain_node_request{"node-1", true}}));
  BOOST_TEST(arrivals(1).front().env.request_id == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
