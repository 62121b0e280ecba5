// Malformed input, part 3: well-framed envelopes whose values the protocol refuses (text that
// is not UTF-8, numbers that are not finite), trailing words, and what a peer is told.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <functional>
#include <limits>

#include "samples.hpp"

namespace troupe::msg::test {
namespace {

const char* const invalid_texts[] = {"h\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80"};

register_node_request registration() {
  return std::get<register_node_request>(sample_of("register_node_request").body);
}

decode_failure failure_of(const envelope& env) {
  auto result = decode_string(encode(env));
  auto* failure = std::get_if<decode_failure>(&result);
  BOOST_TEST_REQUIRE(failure, "the envelope decoded");
  return *failure;
}

void expect_refused(const std::function<void(register_node_request&)>& spoil,
                    const std::string& what, const std::string& reason) {
  auto env = sample_of("register_node_request");
  auto request = registration();
  spoil(request);
  env.body = request;
  const auto failure = failure_of(env);
  BOOST_TEST(kind_name(failure.kind) == "malformed", what);
  BOOST_TEST(failure.request_id.value_or(0) == env.request_id, what);
  BOOST_TEST(failure.message.find(reason) != std::string::npos, what << ": " << failure.message);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(malformed_input)

BOOST_AUTO_TEST_CASE(a_registration_with_invalid_utf8_in_any_text_field_is_refused) {
  for (std::string bad : invalid_texts) {
    using r = register_node_request&;
    expect_refused([&](r v) { v.addresses[1] = bad; }, "address " + bad, "not valid UTF-8");
    expect_refused([&](r v) { v.labels["zone"] = bad; }, "label value " + bad, "not valid UTF-8");
    expect_refused([&](r v) { v.labels[bad] = "x"; }, "label key " + bad, "not valid UTF-8");
    expect_refused([&](r v) { v.resources.gpus[0].name = bad; }, "gpu name " + bad,
                   "not valid UTF-8");
    expect_refused([&](r v) { v.name = bad; }, "name " + bad, "not valid UTF-8");
    expect_refused([&](r v) { v.node_id = bad; }, "node id " + bad, "not valid UTF-8");
    expect_refused([&](r v) { v.version = bad; }, "version " + bad, "not valid UTF-8");
  }
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_the_sender_or_any_message_kind_is_refused) {
  for (const auto& s : samples()) {
    auto env = s.env;
    env.sender = "\xc0\x80";
    BOOST_TEST(kind_name(failure_of(env).kind) == "malformed", s.kind);
  }
  auto env = sample_of("drain_node_reply");
  std::get<drain_node_reply>(env.body).node.labels["k"] = "h\xff";
  BOOST_TEST(kind_name(failure_of(env).kind) == "malformed");
}

BOOST_AUTO_TEST_CASE(a_registration_with_a_non_finite_cpu_count_is_refused) {
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()})
    expect_refused([&](register_node_request& v) { v.resources.cpus = bad; },
                   "cpus " + std::to_string(bad), "not finite");
}

BOOST_AUTO_TEST_CASE(a_heartbeat_with_a_non_finite_load_is_refused) {
  auto env = sample_of("heartbeat");
  std::get<heartbeat>(env.body).load.load_average_1m = std::nan("");
  BOOST_TEST(kind_name(failure_of(env).kind) == "malformed");
  env = sample_of("heartbeat");
  std::get<heartbeat>(env.body).free.cpus = std::numeric_limits<double>::infinity();
  BOOST_TEST(kind_name(failure_of(env).kind) == "malformed");
}

BOOST_AUTO_TEST_CASE(a_service_list_with_a_rate_limit_not_finite_or_negative_is_refused) {
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(), -1.0}) {
    auto env = sample_of("inference.list_services_reply");
    auto& services = std::get<list_services_reply>(std::get<inference_message>(env.body).body);
    services.services[1].auth.rate_limit_per_s = bad;
    BOOST_TEST(kind_name(failure_of(env).kind) == "malformed", bad);
  }
}

BOOST_AUTO_TEST_CASE(a_readable_envelope_followed_by_trailing_words_keeps_its_request_id) {
  const auto env = sample_of("node_list_request");
  auto result = decode_string(encode(env) + std::string(16, '\0'));
  auto* failure = std::get_if<decode_failure>(&result);
  BOOST_TEST_REQUIRE(failure);
  BOOST_TEST(failure->request_id.value_or(0) == env.request_id);
  BOOST_TEST(failure_reply(*failure, "head").request_id == env.request_id);
}

BOOST_AUTO_TEST_CASE(a_peer_is_told_a_plain_message_and_the_library_detail_stays_local) {
  auto bytes = encode(sample_of("node_list_request"));
  bytes[0] = '\x7f';  // a segment count Cap'n Proto refuses
  auto result = decode_string(bytes);
  auto* failure = std::get_if<decode_failure>(&result);
  BOOST_TEST_REQUIRE(failure);
  const auto told = std::get<error>(failure_reply(*failure, "head").body).message;
  BOOST_TEST(told.find("malformed message") != std::string::npos, told);
  BOOST_TEST(told.find(".c++") == std::string::npos, told);
  BOOST_TEST(told.find("stack:") == std::string::npos, told);
  BOOST_TEST(failure->detail.find(".c++") != std::string::npos, failure->detail);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::msg::test
