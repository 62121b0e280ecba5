#include <boost/test/unit_test.hpp>

#include "cluster/security/credentials.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"
#include "tests/unit/cli/scripted_head.hpp"
#include "tools/cli/session.hpp"

using namespace troupe;
using testing::scripted_head;

namespace {

cli::session session_at(const scripted_head& head, int timeout_ms = 2000) {
  cli::cli_config config;
  config.head = head.endpoint();
  config.credential = head.client_credential();
  config.timeout = std::chrono::milliseconds(timeout_ms);
  return cli::session(config);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_session)

// The connection under every transfer (`troupe data put/get`) keeps several requests in flight.
BOOST_AUTO_TEST_CASE(replies_to_requests_in_flight_reach_their_own_await_in_any_order) {
  scripted_head head({msg::remove_node_reply{"id-2", "b"}, msg::remove_node_reply{"id-3", "c"}}, 1);
  transport::request_client client(head.endpoint(), "test",
                                   security::client_keys(head.client_credential()));
  const auto lost = client.send(msg::remove_node_request{"a"});
  const auto second = client.send(msg::remove_node_request{"b"});
  const auto third = client.send(msg::remove_node_request{"c"});
  const auto reply_of = [&](uint64_t id) {
    auto reply = client.await(id, std::chrono::milliseconds(3000));
    BOOST_TEST_REQUIRE(reply.has_value());
    return std::get<msg::remove_node_reply>(reply->body).name;
  };
  // The third's reply is awaited first; the second's, which came before it, is kept.
  BOOST_TEST(reply_of(third) == "c");
  BOOST_TEST(reply_of(second) == "b");
  BOOST_TEST(!client.await(lost, std::chrono::milliseconds(50)).has_value());
}

BOOST_AUTO_TEST_CASE(a_reply_of_the_wanted_kind_is_returned) {
  msg::remove_node_reply removed{"id-1", "node-a"};
  scripted_head head({removed});
  auto reply =
      session_at(head).call_for<msg::remove_node_reply>(msg::remove_node_request{"node-a"});
  BOOST_TEST_REQUIRE(bool(reply));
  BOOST_TEST((*reply == removed));
  BOOST_TEST_REQUIRE(head.requests().size() == 1u);
  BOOST_TEST(std::get<msg::remove_node_request>(head.requests()[0]).node == "node-a");
}

BOOST_AUTO_TEST_CASE(an_error_reply_is_a_head_error_with_the_heads_message) {
  scripted_head head({msg::error{msg::error_code::not_found, "no node named `x`"}});
  auto reply = session_at(head).call(msg::node_list_request{});
  BOOST_TEST_REQUIRE(!reply);
  BOOST_TEST(int(reply.error().exit_code) == 1);
  BOOST_TEST(reply.error().message == "no node named `x` (not_found)");
}

BOOST_AUTO_TEST_CASE(the_heads_error_message_is_shown_escaped) {
  scripted_head head({msg::error{msg::error_code::not_found, "no node named `\x1b[2Jx\n`"}});
  auto reply = session_at(head).call(msg::node_list_request{});
  BOOST_TEST_REQUIRE(!reply);
  BOOST_TEST(reply.error().message == "no node named `\\x1b[2Jx\\n` (not_found)");
}

BOOST_AUTO_TEST_CASE(an_unimplemented_reply_is_a_head_error) {
  scripted_head head({msg::unimplemented{7}});
  auto reply = session_at(head).call(msg::node_list_request{});
  BOOST_TEST_REQUIRE(!reply);
  BOOST_TEST(int(reply.error().exit_code) == 1);
  BOOST_TEST(reply.error().message ==
             "the head at " + head.endpoint() + " does not implement this request");
}

BOOST_AUTO_TEST_CASE(a_reply_of_another_kind_is_a_head_error) {
  scripted_head head({msg::node_list_reply{}});
  auto reply = session_at(head).call_for<msg::cluster_status_reply>(msg::cluster_status_request{});
  BOOST_TEST_REQUIRE(!reply);
  BOOST_TEST(int(reply.error().exit_code) == 1);
  BOOST_TEST(reply.error().message == "unexpected reply kind from the head");
}

BOOST_AUTO_TEST_CASE(no_answer_in_time_is_unreachable_and_names_the_head) {
  scripted_head silent({});
  auto reply = session_at(silent, 100).call(msg::node_list_request{});
  BOOST_TEST_REQUIRE(!reply);
  BOOST_TEST(int(reply.error().exit_code) == 3);
  BOOST_TEST(reply.error().message ==
             "no reply from the head at " + silent.endpoint() +
                 " within 100 ms (is `trouped --head` running there, and does it "
                 "know this CLI's key (" +
                 silent.client_credential().key_id + ")?)");
  BOOST_TEST(silent.requests().size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_address_zeromq_cannot_use_is_a_usage_error) {
  scripted_head head({});
  cli::cli_config config;
  config.head = "tcp://nonsense";
  config.credential = head.client_credential();
  auto reply = cli::session(config).call(msg::node_list_request{});
  BOOST_TEST_REQUIRE(!reply);
  BOOST_TEST(int(reply.error().exit_code) == 2);
  BOOST_TEST(reply.error().message == "cannot reach tcp://nonsense: Invalid argument");
}

BOOST_AUTO_TEST_SUITE_END()
