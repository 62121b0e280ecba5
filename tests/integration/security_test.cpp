// Authenticated links against a live head: only keys the head knows get answers, each role may
// send only its requests, a node key speaks only for its own node, a submit key is bound to its
// tenant and may send no cluster or security request, revoked keys and expired join tokens are
// cut off (docs/security.md).
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

// A head alone (its own node agent is its one node) and a submit credential of tenant
// ml-research made with the CLI.
struct head_with_submit_key {
  cluster c;
  std::string file;
  std::string head_node;
  head_with_submit_key() {
    c.start_head();
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(1), c.dump_logs());
    head_node = c.nodes().begin()->first;
    file = c.root() + "/ml.credentials";
    auto created = c.troupe(
        {"credentials", "create", "--role", "submit", "--tenant", "ml-research", "--out", file});
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    BOOST_TEST(created.out.find("submit key ") == 0u, created.out);
    BOOST_TEST(created.out.find(" for tenant ml-research ") != std::string::npos, created.out);
  }
  // The CLI run with the submit credential.
  command_result troupe_as_submit(std::vector<std::string> args) const {
    std::vector<std::string> argv{binary("troupe"), "--head", c.endpoint(), "--credentials", file,
                                  "--timeout-ms",   "2000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
};

BOOST_FIXTURE_TEST_CASE(a_submit_credential_is_listed_with_its_tenant, head_with_submit_key) {
  const auto key_id = security::load_credential(file).key_id;
  bool listed = false;
  for (auto& k : nlohmann::json::parse(c.troupe({"keys", "ls", "--json"}).out))
    listed |= k["id"] == key_id && k["role"] == "submit" && k["tenant"] == "ml-research" &&
              k["state"] == "active";
  BOOST_TEST(listed);
  const auto table = c.troupe({"keys", "ls"});
  BOOST_TEST(table.out.find("TENANT") != std::string::npos, table.out);
  BOOST_TEST(table.out.find("ml-research") != std::string::npos, table.out);
}

BOOST_FIXTURE_TEST_CASE(a_submit_key_is_denied_every_cluster_and_security_request,
                        head_with_submit_key) {
  const auto keys = security::client_keys(security::load_credential(file));
  const auto admin_key_id = security::load_credential(c.admin_credentials()).key_id;
  const std::vector<msg::body> requests{
      msg::cluster_status_request{},
      msg::node_list_request{},
      msg::drain_node_request{head_node, true},
      msg::remove_node_request{head_node},
      msg::register_node_request{},
      msg::deregister_node{},
      msg::security_message{msg::create_join_token_request{}},
      msg::security_message{msg::create_credential_request{
          msg::key_role::admin, security::generate_key_pair().public_key, "escalated", ""}},
      msg::security_message{msg::key_list_request{}},
      msg::security_message{msg::revoke_key_request{admin_key_id}},
      msg::security_message{msg::enroll_node_request{
          std::string(32, 'a'), security::generate_key_pair().public_key, "forged"}},
  };
  for (const auto& request : requests)
    BOOST_TEST(error_of(ask(c.endpoint(), keys, request)) == msg::error_code::permission_denied,
               "request kind #" << request.index());
  // The CLI with this credential gets the same refusals, as head errors (exit code 1).
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status"}, {"drain", head_node}, {"keys", "ls"}, {"keys", "revoke", admin_key_id}}) {
    auto refused = troupe_as_submit(args);
    BOOST_TEST(refused.exit_code == 1, args.front() << ": " << refused.err);
    BOOST_TEST(
        refused.err.find("may not send this request (permission_denied)") != std::string::npos,
        refused.err);
  }
  // Nothing changed, and an admin can still do everything.
  BOOST_TEST(c.troupe({"status"}).exit_code == 0);
  const auto listed = nlohmann::json::parse(c.troupe({"keys", "ls", "--json"}).out);
  BOOST_TEST(listed.size() == 4u);  // admin, head's node, join token, the submit key
  for (auto& k : listed) BOOST_TEST(k["state"] == "active", k.dump());
  BOOST_TEST(!c.nodes().at(head_node)["draining"].get<bool>());
  auto drained = c.troupe({"drain", head_node});
  BOOST_TEST(drained.exit_code == 0, drained.err);
  BOOST_TEST(c.troupe({"undrain", head_node}).exit_code == 0);
  auto revoked = c.troupe({"keys", "revoke", security::load_credential(file).key_id});
  BOOST_TEST(revoked.exit_code == 0, revoked.err);
}

BOOST_FIXTURE_TEST_CASE(a_credential_whose_tenant_does_not_fit_its_role_is_refused_naming_it,
                        head_with_submit_key) {
  const auto keys_before = nlohmann::json::parse(c.troupe({"keys", "ls", "--json"}).out).size();
  const auto ask_for = [&](msg::key_role role, const std::string& tenant) {
    auto reply = ask(c.endpoint(), c.admin_keys(),
                     msg::security_message{msg::create_credential_request{
                         role, security::generate_key_pair().public_key, "bob", tenant}});
    BOOST_TEST_REQUIRE(reply.has_value());
    const auto* err = std::get_if<msg::error>(&reply->body);
    BOOST_TEST_REQUIRE(err, "the reply is not an error");
    BOOST_TEST(err->code == msg::error_code::invalid_request);
    return err->message;
  };
  BOOST_TEST(ask_for(msg::key_role::submit, "") ==
             "`tenant`: a submit key is bound to one tenant: 1 to 128 characters of A-Z, a-z, "
             "0-9, '.', '_', '-'");
  BOOST_TEST(ask_for(msg::key_role::submit, std::string(129, 'a')).find("`tenant`: ") == 0u);
  BOOST_TEST(ask_for(msg::key_role::admin, "ml-research") ==
             "`tenant`: only a submit key has a tenant, not a key of role admin");
  BOOST_TEST(ask_for(msg::key_role::node, "").find("`role`: ") == 0u);
  // The CLI refuses the same before asking the head, as a usage error.
  auto cli = c.troupe({"credentials", "create", "--role", "submit", "--out", c.root() + "/x"});
  BOOST_TEST(cli.exit_code == 2);
  BOOST_TEST(cli.err.find("--tenant: a submit key is bound to one tenant") != std::string::npos,
             cli.err);
  BOOST_TEST(nlohmann::json::parse(c.troupe({"keys", "ls", "--json"}).out).size() == keys_before);
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
