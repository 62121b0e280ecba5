// Authenticated links against a live head: only keys the head knows get answers, each role may
// send only its requests, a node key speaks only for its own node, revoked keys and expired join
// tokens are cut off (docs/security.md).
#include <boost/test/unit_test.hpp>
#include <zmq.hpp>

#include "cluster/security/credentials.hpp"
#include "cluster/security/key_registry.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;

namespace {

// A head with two nodes, all alive.
struct two_nodes {
  cluster c;
  two_nodes() {
    c.start_head();
    c.start_node("node-1");
    c.start_node("node-2");
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(3), c.dump_logs());
  }

  transport::curve_keys node_keys(const std::string& name) {
    return security::client_keys(security::load_credential(c.node(name).data_dir() + "/node.key"));
  }
  std::string head_public_key() const {
    return security::load_credential(c.admin_credentials()).head_public_key;
  }
  std::string node_id(const std::string& name) const {
    return c.nodes().at(name)["id"].get<std::string>();
  }
};

std::optional<msg::envelope> ask(const std::string& endpoint,
                                 const std::optional<transport::curve_keys>& keys, msg::body body,
                                 std::chrono::milliseconds wait = std::chrono::milliseconds(1500)) {
  transport::request_client client(endpoint, "test", keys);
  return client.call(std::move(body), wait);
}

msg::error_code error_of(const std::optional<msg::envelope>& reply) {
  BOOST_TEST_REQUIRE(reply.has_value());
  const auto* err = std::get_if<msg::error>(&reply->body);
  BOOST_TEST_REQUIRE(err, "the reply is not an error");
  return err->code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(authentication)

BOOST_FIXTURE_TEST_CASE(a_client_without_curve_gets_no_answer_and_changes_nothing, two_nodes) {
  BOOST_TEST(!ask(c.endpoint(), std::nullopt, msg::drain_node_request{"node-1", true}).has_value());
  BOOST_TEST(c.nodes().at("node-1")["state"] == "alive");
}

BOOST_FIXTURE_TEST_CASE(a_key_the_head_does_not_know_gets_no_answer_and_changes_nothing,
                        two_nodes) {
  auto stranger = security::generate_key_pair();
  transport::curve_keys keys{stranger.public_key, stranger.secret_key, head_public_key()};
  BOOST_TEST(!ask(c.endpoint(), keys, msg::drain_node_request{"node-1", true}).has_value());
  BOOST_TEST(!ask(c.endpoint(), keys, msg::remove_node_request{"node-2"}).has_value());
  BOOST_TEST(c.nodes().at("node-1")["state"] == "alive");
  BOOST_TEST(c.nodes().count("node-2") == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_node_key_may_not_drain_nor_speak_for_another_node, two_nodes) {
  const auto keys = node_keys("node-1");
  BOOST_TEST(error_of(ask(c.endpoint(), keys, msg::drain_node_request{"node-2", true})) ==
             msg::error_code::permission_denied);
  BOOST_TEST(error_of(ask(c.endpoint(), keys, msg::cluster_status_request{})) ==
             msg::error_code::permission_denied);
  // A forged registration of node-2 with a huge incarnation would lock node-2 out for good.
  msg::register_node_request forged;
  forged.node_id = node_id("node-2");
  forged.name = "node-2";
  forged.incarnation = 1000;
  forged.version = "0.1.0";
  BOOST_TEST(error_of(ask(c.endpoint(), keys, forged)) == msg::error_code::permission_denied);
  BOOST_TEST(
      error_of(ask(c.endpoint(), keys, msg::deregister_node{node_id("node-2"), 1, "forged"})) ==
      msg::error_code::permission_denied);
  auto node_2 = c.nodes().at("node-2");
  BOOST_TEST(node_2["state"] == "alive");
  BOOST_TEST(node_2["incarnation"] == 1);
  BOOST_TEST(!node_2["draining"].get<bool>());
}

BOOST_FIXTURE_TEST_CASE(a_join_tokens_key_may_only_enroll, two_nodes) {
  auto token = security::parse_join_token(c.join_token());
  const auto keys = security::client_keys(token);
  BOOST_TEST(error_of(ask(c.endpoint(), keys, msg::node_list_request{})) ==
             msg::error_code::permission_denied);
  BOOST_TEST(error_of(ask(c.endpoint(), keys, msg::security_message{msg::key_list_request{}})) ==
             msg::error_code::permission_denied);
}

BOOST_FIXTURE_TEST_CASE(a_revoked_admin_key_stops_working_at_once, two_nodes) {
  const auto file = c.root() + "/alice.credentials";
  BOOST_TEST_REQUIRE(
      c.troupe({"credentials", "create", "--role", "admin", "--out", file}).exit_code == 0);
  const auto alice = security::load_credential(file);
  // One connection before and after the revocation: the head closes it and refuses its key.
  transport::request_client client(c.endpoint(), "alice", security::client_keys(alice));
  BOOST_TEST_REQUIRE(
      client.call(msg::cluster_status_request{}, std::chrono::seconds(5)).has_value());
  auto revoked = c.troupe({"keys", "revoke", alice.key_id});
  BOOST_TEST_REQUIRE(revoked.exit_code == 0, revoked.err);
  BOOST_TEST(
      !client.call(msg::cluster_status_request{}, std::chrono::milliseconds(1500)).has_value());
  BOOST_TEST(
      !ask(c.endpoint(), security::client_keys(alice), msg::cluster_status_request{}).has_value());
  auto listed = c.troupe({"keys", "ls", "--json"});
  bool shown_revoked = false;
  for (auto& k : nlohmann::json::parse(listed.out))
    shown_revoked |= k["id"] == alice.key_id && k["state"] == "revoked";
  BOOST_TEST(shown_revoked);
}

BOOST_FIXTURE_TEST_CASE(a_node_whose_key_is_revoked_is_cut_off_and_declared_dead, two_nodes) {
  const auto key_id = security::load_credential(c.node("node-1").data_dir() + "/node.key").key_id;
  BOOST_TEST_REQUIRE(c.troupe({"keys", "revoke", key_id}).exit_code == 0);
  BOOST_TEST(c.wait_for_state("node-1", "dead"), c.dump_logs());
  BOOST_TEST(c.nodes().at("node-2")["state"] == "alive");
}

BOOST_FIXTURE_TEST_CASE(a_join_token_after_its_ttl_is_refused, two_nodes) {
  auto created = c.troupe({"join-token", "create", "--ttl", "1s", "--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  auto token = security::parse_join_token(nlohmann::json::parse(created.out)["token"]);
  const auto keys = security::client_keys(token);
  const auto expires = nlohmann::json::parse(created.out)["expires_at_ms"].get<int64_t>();
  BOOST_TEST_REQUIRE(wait_until([&] { return security::unix_now_ms() > expires; }, 5s));
  const auto stolen = security::generate_key_pair();
  BOOST_TEST(!ask(c.endpoint(), keys,
                  msg::security_message{
                      msg::enroll_node_request{std::string(32, 'a'), stolen.public_key, "thief"}})
                  .has_value());
  BOOST_TEST(c.nodes().size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_node_id_cannot_be_enrolled_twice, two_nodes) {
  auto token = security::parse_join_token(c.join_token());
  const auto keys = security::client_keys(token);
  const auto other = security::generate_key_pair();
  BOOST_TEST(error_of(ask(c.endpoint(), keys,
                          msg::security_message{msg::enroll_node_request{
                              node_id("node-2"), other.public_key, "node-2"}})) ==
             msg::error_code::conflict);
}

// A DEALER with a chosen routing id, authenticated with `keys`.
zmq::socket_t dealer_with_id(zmq::context_t& context, const std::string& endpoint,
                             const transport::curve_keys& keys, const std::string& routing_id) {
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::routing_id, routing_id);
  transport::set_client_curve(socket, keys);
  socket.connect(endpoint);
  return socket;
}

// Sends a status request and waits (bounded) for the reply to it.
bool status_answered(zmq::socket_t& socket, uint64_t request_id) {
  socket.send(zmq::buffer(msg::encode(
      msg::envelope{msg::protocol_version, request_id, "test", msg::cluster_status_request{}})));
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(2000)) == 0) return false;
  zmq::message_t frame;
  (void)socket.recv(frame);
  auto decoded = msg::decode(frame.data(), frame.size());
  auto* env = std::get_if<msg::envelope>(&decoded);
  return env && env->request_id == request_id;
}

BOOST_FIXTURE_TEST_CASE(another_key_cannot_take_over_a_connection_by_its_routing_id, two_nodes) {
  zmq::context_t context{1};
  auto victim = dealer_with_id(context, c.endpoint(), c.admin_keys(), "taken");
  BOOST_TEST_REQUIRE(status_answered(victim, 1));
  const auto file = c.root() + "/mallory.credentials";
  BOOST_TEST_REQUIRE(
      c.troupe({"credentials", "create", "--role", "admin", "--out", file}).exit_code == 0);
  auto thief = dealer_with_id(context, c.endpoint(),
                              security::client_keys(security::load_credential(file)), "taken");
  (void)status_answered(thief, 2);  // refused or answered: either way not the victim's link
  BOOST_TEST(status_answered(victim, 3));
}

BOOST_AUTO_TEST_CASE(a_node_without_a_token_or_key_is_refused_at_start) {
  cluster c;
  c.start_head();
  auto result = run_command({binary("trouped"), "--join", c.endpoint(), "--data-dir",
                             c.root() + "/lonely", "--name", "lonely"});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("--token") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_SUITE_END()
