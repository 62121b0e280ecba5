// Round trips through the codec: whatever encode() writes, decode() gives back unchanged,
// for every message kind, every enum value and awkward texts.
#define BOOST_TEST_MODULE messages
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "samples.hpp"

namespace troupe::msg::test {
namespace {

// Encodes `expected` and checks that decoding gives it back; `what` names the case.
void expect_round_trip(const envelope& expected, const std::string& what) {
  const auto bytes = encode(expected);
  const auto result = decode_string(bytes);
  const auto* failure = std::get_if<decode_failure>(&result);
  BOOST_TEST_REQUIRE(!failure, what << ": " << (failure ? failure->message : ""));
  BOOST_TEST((std::get<envelope>(result) == expected), what << " changed in a round trip");
}

template <size_t... I>
std::vector<body> default_bodies(std::index_sequence<I...>) {
  return {body{std::in_place_index<I>}...};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(round_trips)

// An area member of the body (e.g. security_message) counts each kind inside it.
BOOST_AUTO_TEST_CASE(the_samples_cover_every_alternative_of_the_body_variant) {
  std::set<std::pair<size_t, size_t>> covered;
  for (const auto& s : samples()) {
    size_t inner = 0;
    if (const auto* area = std::get_if<security_message>(&s.env.body)) inner = area->body.index();
    if (const auto* area = std::get_if<jobs_message>(&s.env.body)) inner = area->body.index();
    if (const auto* area = std::get_if<artifacts_message>(&s.env.body)) inner = area->body.index();
    if (const auto* area = std::get_if<models_message>(&s.env.body)) inner = area->body.index();
    if (const auto* area = std::get_if<training_message>(&s.env.body)) inner = area->body.index();
    if (const auto* area = std::get_if<inference_message>(&s.env.body)) inner = area->body.index();
    covered.insert({s.env.body.index(), inner});
  }
  constexpr size_t kinds = std::variant_size_v<body> - 6 +
                           std::variant_size_v<decltype(security_message::body)> +
                           std::variant_size_v<decltype(jobs_message::body)> +
                           std::variant_size_v<decltype(artifacts_message::body)> +
                           std::variant_size_v<decltype(models_message::body)> +
                           std::variant_size_v<decltype(training_message::body)> +
                           std::variant_size_v<decltype(inference_message::body)>;
  BOOST_TEST(samples().size() == kinds);
  BOOST_TEST(covered.size() == kinds);
}

BOOST_AUTO_TEST_CASE(every_message_kind_survives_an_encode_decode_round_trip) {
  for (const auto& s : samples()) expect_round_trip(s.env, s.kind);
}

BOOST_AUTO_TEST_CASE(every_message_kind_with_default_values_survives_a_round_trip) {
  const auto bodies = default_bodies(std::make_index_sequence<std::variant_size_v<body>>{});
  for (const auto& b : bodies) {
    envelope env;
    env.body = b;
    expect_round_trip(env, "default body #" + std::to_string(b.index()));
  }
}

BOOST_AUTO_TEST_CASE(every_enum_value_survives_a_round_trip) {
  for (auto state : {node_state::alive, node_state::suspect, node_state::dead, node_state::draining,
                     node_state::left}) {
    auto node = sample_node(5);
    node.state = state;
    expect_round_trip(envelope{protocol_version, 1, "head", drain_node_reply{node}},
                      std::string("node state ") + to_string(state));
  }
  for (auto reason : {heartbeat_reject_reason::unknown_node, heartbeat_reject_reason::declared_dead,
                      heartbeat_reject_reason::stale_incarnation}) {
    expect_round_trip(envelope{protocol_version, 2, "head", heartbeat_rejected{reason, 3}},
                      "reject reason " + std::to_string(static_cast<int>(reason)));
  }
  for (auto role :
       {key_role::admin, key_role::node, key_role::enroll, key_role::submit, key_role::rank}) {
    auto key = std::get<revoke_key_reply>(
        std::get<security_message>(sample_of("security.revoke_key_reply").body).body);
    key.key.role = role;
    expect_round_trip(envelope{protocol_version, 4, "head", security_message{key}},
                      std::string("key role ") + to_string(role));
  }
  for (auto role : {app_token_role::predict, app_token_role::manage}) {
    auto token = std::get<revoke_app_token_reply>(
        std::get<security_message>(sample_of("security.revoke_app_token_reply").body).body);
    token.token.role = role;
    expect_round_trip(envelope{protocol_version, 4, "head", security_message{token}},
                      std::string("app token role ") + to_string(role));
  }
  for (auto code : {error_code::invalid_request, error_code::not_found, error_code::conflict,
                    error_code::overloaded, error_code::unavailable, error_code::timeout,
                    error_code::internal}) {
    expect_round_trip(envelope{protocol_version, 3, "head", error{code, "detail"}},
                      std::string("error code ") + to_string(code));
  }
  for (auto outputs : {inference::output_kind::logits, inference::output_kind::probabilities,
                       inference::output_kind::values}) {
    auto reply = std::get<resolve_service_reply>(
        std::get<inference_message>(sample_of("inference.resolve_service_reply").body).body);
    reply.versions[0].signature.outputs = outputs;
    expect_round_trip(envelope{protocol_version, 6, "head", inference_message{reply}},
                      "output kind " + std::to_string(static_cast<int>(outputs)));
  }
  for (auto stage : {models::stage::none, models::stage::staging, models::stage::production,
                     models::stage::archived}) {
    expect_round_trip(envelope{protocol_version, 5, "troupe-cli",
                               models_message{promote_model_request{"txn", 2, stage}}},
                      std::string("model stage ") + models::to_string(stage));
  }
}

BOOST_AUTO_TEST_CASE(extreme_numbers_and_awkward_texts_survive_a_round_trip) {
  constexpr auto max64 = std::numeric_limits<uint64_t>::max();
  constexpr auto max32 = std::numeric_limits<uint32_t>::max();
  auto node = sample_node(6);
  node.name = std::string("nul\0inside", 10);
  node.version = "v\xc3\xa9rsion \xe2\x9c\x93 \xf0\x9f\x9a\x80";  // UTF-8: é ✓ 🚀
  node.node_id = std::string(70'000, 'x');
  node.incarnation = max64;
  node.free = {-0.0, max64, max32};
  node.load = {std::numeric_limits<double>::max(), max64, max32};
  node.resources.cpus = std::numeric_limits<double>::denorm_min();
  node.labels = {{"", ""}, {"empty value", ""}, {std::string("k\0", 2), "\n\t"}};
  node.addresses = {"", "", "tcp://host:1"};
  expect_round_trip(envelope{protocol_version, max64, "", drain_node_reply{node}}, "extremes");
}

BOOST_AUTO_TEST_CASE(a_node_list_of_hundreds_of_nodes_fits_the_default_limits) {
  node_list_reply list;
  for (int i = 0; i < 500; ++i) list.nodes.push_back(sample_node(i));
  const envelope env{protocol_version, 9, "head", list};
  BOOST_TEST_MESSAGE("500 nodes encode to " << encode(env).size() << " bytes");
  expect_round_trip(env, "500-node list");
}

BOOST_AUTO_TEST_CASE(a_message_decodes_the_same_from_a_buffer_misaligned_by_any_offset) {
  for (const auto& s : samples()) {
    const auto bytes = encode(s.env);
    std::vector<uint64_t> storage(bytes.size() / 8 + 2);  // 8-byte aligned backing store
    for (size_t offset = 0; offset < 8; ++offset) {
      auto* start = reinterpret_cast<char*>(storage.data()) + offset;
      std::memcpy(start, bytes.data(), bytes.size());
      const auto result = decode(start, bytes.size());
      const auto* env = std::get_if<envelope>(&result);
      BOOST_TEST_REQUIRE(env, s.kind << " at offset " << offset);
      BOOST_TEST((*env == s.env), s.kind << " at offset " << offset);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_reply_echoes_the_request_id_and_speaks_the_current_version) {
  const auto request = sample_of("register_node_request");
  const auto reply = reply_to(request, "head", register_node_reply{1'000, false});
  BOOST_TEST(reply.request_id == request.request_id);
  BOOST_TEST(reply.version == protocol_version);
  BOOST_TEST(reply.sender == "head");
  expect_round_trip(reply, "reply");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::msg::test
