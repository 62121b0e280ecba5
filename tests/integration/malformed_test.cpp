// Bad input to a live head: every malformed frame gets an answer or is dropped, is counted,
// and the head keeps serving everyone else.
#include <boost/test/unit_test.hpp>
#include <random>

#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;

namespace {

// Byte offsets in a single-segment envelope: 8 bytes of segment table, 8 of root pointer,
// then the data section: protocolVersion at +0, the body's union tag at +2.
constexpr size_t version_offset = 16, union_tag_offset = 18;

std::string node_list_frame() {
  msg::envelope env;
  env.request_id = 77;
  env.sender = "test";
  env.body = msg::node_list_request{};
  return msg::encode(env);
}

void set_u16(std::string& frame, size_t offset, uint16_t value) {
  frame[offset] = static_cast<char>(value & 0xff);
  frame[offset + 1] = static_cast<char>(value >> 8);
}

// Sends `frame` and returns the decoded reply envelope (fails the test on no reply).
msg::envelope answer_to(transport::request_client& client, const std::string& frame) {
  client.send_raw(frame);
  auto reply = client.receive(std::chrono::seconds(5));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::envelope>(*reply));
  return std::get<msg::envelope>(*reply);
}

msg::error error_in(const msg::envelope& env) {
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(env.body));
  return std::get<msg::error>(env.body);
}

struct head_only {
  cluster c;
  head_only() { c.start_head({"--no-worker"}); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(malformed_input)

BOOST_FIXTURE_TEST_CASE(random_bytes_get_an_invalid_request_error, head_only) {
  transport::request_client client(c.endpoint(), "fuzz", c.admin_keys());
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string junk(8 * (1 + rng() % 64), '\0');
    for (auto& ch : junk) ch = static_cast<char>(rng());
    auto reply = answer_to(client, junk);
    BOOST_TEST(error_in(reply).code == msg::error_code::invalid_request);
  }
  auto status = nlohmann::json::parse(c.troupe({"status", "--json"}).out);
  BOOST_TEST(status["malformed_messages"].get<uint64_t>() >= 200u);
}

BOOST_FIXTURE_TEST_CASE(truncated_and_odd_sized_frames_are_refused, head_only) {
  transport::request_client client(c.endpoint(), "fuzz", c.admin_keys());
  auto frame = node_list_frame();
  for (size_t cut : {size_t{1}, size_t{7}, size_t{8}, size_t{16}, frame.size() - 8}) {
    auto reply = answer_to(client, frame.substr(0, cut));
    BOOST_TEST(error_in(reply).code == msg::error_code::invalid_request);
  }
}

BOOST_FIXTURE_TEST_CASE(an_oversized_frame_is_refused_with_the_limit_named, head_only) {
  transport::request_client client(c.endpoint(), "fuzz", c.admin_keys());
  auto reply = answer_to(client, std::string(2 << 20, '\0'));
  BOOST_TEST(error_in(reply).message.find("exceeds the limit") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_wrong_protocol_version_is_refused_naming_both_versions, head_only) {
  transport::request_client client(c.endpoint(), "fuzz", c.admin_keys());
  auto frame = node_list_frame();
  set_u16(frame, version_offset, 999);
  auto reply = answer_to(client, frame);
  BOOST_TEST(reply.request_id == 77u);
  BOOST_TEST(error_in(reply).message.find("protocol version 999") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_message_kind_is_answered_unimplemented, head_only) {
  transport::request_client client(c.endpoint(), "fuzz", c.admin_keys());
  auto frame = node_list_frame();
  set_u16(frame, union_tag_offset, 4000);
  auto reply = answer_to(client, frame);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::unimplemented>(reply.body));
  BOOST_TEST(std::get<msg::unimplemented>(reply.body).body_ordinal == 4000u);
}

BOOST_FIXTURE_TEST_CASE(a_kind_the_head_does_not_serve_gets_an_error, head_only) {
  transport::request_client client(c.endpoint(), "fuzz", c.admin_keys());
  auto reply = client.call(msg::register_node_reply{200, false}, std::chrono::seconds(5));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(error_in(*reply).code == msg::error_code::invalid_request);
}

BOOST_FIXTURE_TEST_CASE(the_head_keeps_serving_others_during_a_flood_of_garbage, head_only) {
  transport::request_client attacker(c.endpoint(), "fuzz", c.admin_keys());
  for (int i = 0; i < 5000; ++i) attacker.send_raw(std::string(64, static_cast<char>(i)));
  transport::request_client client(c.endpoint(), "honest", c.admin_keys());
  auto reply = client.call(msg::node_list_request{}, std::chrono::seconds(10));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST(std::holds_alternative<msg::node_list_reply>(reply->body));
  // Every garbage frame is counted (the honest request may have been served in between).
  BOOST_TEST(wait_until(
      [&] {
        auto status = nlohmann::json::parse(c.troupe({"status", "--json"}).out);
        return status["malformed_messages"].get<uint64_t>() >= 5000u;
      },
      10s));
}

BOOST_AUTO_TEST_SUITE_END()
