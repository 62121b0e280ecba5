// Malformed input, part 2: messages crafted with Cap'n Proto directly, to reach what our
// encoder never writes: unknown union members, out-of-range enums, pointers that share one
// large object (amplification), and limits set tighter than the message needs.
#include <boost/test/unit_test.hpp>

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>

#include <cstring>
#include <limits>
#include <string>

#include "messages/cluster.capnp.h"
#include "messages/envelope.capnp.h"
#include "messages/inference.capnp.h"
#include "messages/training.capnp.h"
#include "samples.hpp"

namespace troupe::msg::test {
namespace {

// An Envelope root with a valid header; the caller fills in the body.
wire::Envelope::Builder start(capnp::MessageBuilder& builder, uint64_t request_id) {
  auto root = builder.initRoot<wire::Envelope>();
  root.setProtocolVersion(protocol_version);
  root.setRequestId(request_id);
  root.setSender("crafted");
  return root;
}

std::string flat(capnp::MessageBuilder& builder) {
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return {reinterpret_cast<const char*>(bytes.begin()), bytes.size()};
}

// Overwrites the body union's discriminant, found through the schema rather than assumed.
void set_discriminant(wire::Envelope::Builder root, uint16_t value) {
  const auto offset = capnp::Schema::from<wire::Envelope::Body>()
                          .getProto()
                          .getStruct()
                          .getDiscriminantOffset();  // in 16-bit units
  auto data = capnp::AnyStruct::Builder(kj::mv(root)).getDataSection();
  BOOST_TEST_REQUIRE(data.size() >= 2 * offset + 2);
  data[2 * offset] = static_cast<kj::byte>(value & 0xff);  // Cap'n Proto is little-endian
  data[2 * offset + 1] = static_cast<kj::byte>(value >> 8);
}

// The failure from decoding `bytes`; fails the test if it decoded.
decode_failure expect_failure(const std::string& bytes, const decode_limits& limits = {}) {
  auto result = decode_string(bytes, limits);
  auto* failure = std::get_if<decode_failure>(&result);
  BOOST_TEST_REQUIRE(failure, "the crafted message decoded");
  return *failure;
}

// A NodeListReply of `count` nodes whose nodeId pointers all point at one text of
// `text_bytes` bytes: a small frame that reads as count × text_bytes.
std::string shared_text_node_list(unsigned count, size_t text_bytes) {
  capnp::MallocMessageBuilder builder(1 << 17);  // one segment: offsets stay within it
  auto root = start(builder, 64);
  auto nodes = root.getBody().initNodeListReply().initNodes(count);
  const std::string big(text_bytes, 'a');
  nodes[0].setNodeId(capnp::Text::Reader(big.data(), big.size()));
  BOOST_TEST_REQUIRE(builder.getSegmentsForOutput().size() == 1u);

  // A struct's pointer section follows its data section; nodeId is pointer 0.
  auto pointer_at = [&](unsigned i) {
    return reinterpret_cast<kj::byte*>(capnp::AnyStruct::Builder(nodes[i]).getDataSection().end());
  };
  uint64_t first;
  std::memcpy(&first, pointer_at(0), 8);
  // List pointer: bits 0-1 kind (1), bits 2-31 signed offset in words from the next word.
  const auto offset0 = static_cast<int32_t>(static_cast<uint32_t>(first)) >> 2;
  const auto* target = reinterpret_cast<const capnp::word*>(pointer_at(0)) + 1 + offset0;
  for (unsigned i = 1; i < count; ++i) {
    const auto* here = reinterpret_cast<const capnp::word*>(pointer_at(i));
    const auto offset = static_cast<uint32_t>(target - (here + 1));
    const uint64_t pointer = (first & 0xffff'ffff'0000'0000ULL) | (offset << 2) | 1u;
    std::memcpy(pointer_at(i), &pointer, 8);
  }
  return flat(builder);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(malformed_input)

BOOST_AUTO_TEST_CASE(an_unknown_body_kind_is_answered_with_unimplemented_and_its_ordinal) {
  // The discriminant the next appended body member will have, and the largest.
  const auto next =
      static_cast<uint16_t>(capnp::Schema::from<wire::Envelope::Body>().getUnionFields().size());
  for (uint16_t ordinal : {next, uint16_t{200}, uint16_t{65535}}) {
    capnp::MallocMessageBuilder builder;
    auto root = start(builder, 4242);
    root.getBody().initClusterStatusRequest();
    set_discriminant(root, ordinal);
    BOOST_TEST_REQUIRE(static_cast<uint16_t>(root.getBody().which()) == ordinal);

    const auto failure = expect_failure(flat(builder));
    BOOST_TEST(kind_name(failure.kind) == "unknown_body");
    BOOST_TEST(failure.body_ordinal == ordinal);
    BOOST_TEST_REQUIRE(failure.request_id.has_value());
    BOOST_TEST(*failure.request_id == 4242u);

    const auto reply = failure_reply(failure, "head");
    BOOST_TEST(reply.request_id == 4242u);
    BOOST_TEST((reply.body == body{unimplemented{ordinal}}));
    BOOST_TEST((std::get<envelope>(decode_string(encode(reply))) == reply));
  }
}

BOOST_AUTO_TEST_CASE(an_out_of_range_node_state_is_malformed) {
  {
    capnp::MallocMessageBuilder builder;
    auto root = start(builder, 31);
    root.getBody().initDrainNodeReply().initNode().setState(static_cast<wire::NodeState>(99));
    const auto failure = expect_failure(flat(builder));
    BOOST_TEST(kind_name(failure.kind) == "malformed");
    BOOST_TEST_REQUIRE(failure.request_id.has_value());
    BOOST_TEST(*failure.request_id == 31u);
  }
  {  // one bad node among good ones spoils the whole list
    capnp::MallocMessageBuilder builder;
    auto nodes = start(builder, 32).getBody().initNodeListReply().initNodes(3);
    nodes[1].setState(static_cast<wire::NodeState>(5));
    BOOST_TEST(kind_name(expect_failure(flat(builder)).kind) == "malformed");
  }
}

BOOST_AUTO_TEST_CASE(an_out_of_range_heartbeat_reject_reason_is_malformed) {
  capnp::MallocMessageBuilder builder;
  auto rejected = start(builder, 33).getBody().initHeartbeatRejected();
  rejected.setReason(static_cast<wire::HeartbeatRejectReason>(3));
  rejected.setKnownIncarnation(5);
  BOOST_TEST(kind_name(expect_failure(flat(builder)).kind) == "malformed");
}

BOOST_AUTO_TEST_CASE(a_metrics_report_with_a_loss_that_is_not_finite_is_malformed) {
  for (double loss :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    capnp::MallocMessageBuilder builder;
    auto report = start(builder, 35).getBody().initTraining().initMetricsReport();
    report.setAttemptId("j0123456789abcdef.0.1");
    report.initSteps(2)[1].setLoss(loss);
    BOOST_TEST(kind_name(expect_failure(flat(builder)).kind) == "malformed");
  }
}

BOOST_AUTO_TEST_CASE(a_predict_request_with_a_feature_that_is_not_finite_is_malformed) {
  for (float feature :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    capnp::MallocMessageBuilder builder;
    auto request = start(builder, 37).getBody().initInference().initPredictRequest();
    request.setService("txn-category");
    request.setFeatureCount(2);
    auto features = request.initFeatures(4);
    features.set(2, feature);
    BOOST_TEST(kind_name(expect_failure(flat(builder)).kind) == "malformed");
  }
}

BOOST_AUTO_TEST_CASE(an_out_of_range_model_output_kind_is_malformed) {
  capnp::MallocMessageBuilder builder;
  auto reply = start(builder, 38).getBody().initInference().initResolveServiceReply();
  reply.initVersions(1)[0].initSignature().setOutputs(
      static_cast<wire::ModelSignature::Outputs>(3));
  BOOST_TEST(kind_name(expect_failure(flat(builder)).kind) == "malformed");
}

BOOST_AUTO_TEST_CASE(a_metric_entry_of_a_kind_this_build_does_not_know_is_malformed) {
  capnp::MallocMessageBuilder builder;
  auto entry = start(builder, 36).getBody().initTraining().initJobMetricsReply().initEntries(1)[0];
  entry.initStep();
  const auto offset =
      capnp::Schema::from<wire::MetricEntry>().getProto().getStruct().getDiscriminantOffset();
  auto data = capnp::AnyStruct::Builder(kj::mv(entry)).getDataSection();
  BOOST_TEST_REQUIRE(data.size() >= 2 * offset + 2);
  data[2 * offset] = 9;  // no member has this discriminant
  data[2 * offset + 1] = 0;
  BOOST_TEST(kind_name(expect_failure(flat(builder)).kind) == "malformed");
}

BOOST_AUTO_TEST_CASE(an_out_of_range_error_code_degrades_to_internal_keeping_its_message) {
  for (uint16_t code : {uint16_t{8}, uint16_t{99}, uint16_t{65535}}) {
    capnp::MallocMessageBuilder builder;
    auto err = start(builder, 34).getBody().initError();
    err.setCode(static_cast<wire::ErrorCode>(code));
    err.setMessage("quota exceeded");
    const auto result = decode_string(flat(builder));
    const auto* env = std::get_if<envelope>(&result);
    BOOST_TEST_REQUIRE(env, "error code " << code << " was refused");
    BOOST_TEST((env->body == body{error{error_code::internal, "quota exceeded"}}));
  }
}

BOOST_AUTO_TEST_CASE(pointers_sharing_one_large_text_exceed_the_traversal_limit) {
  const auto bytes = shared_text_node_list(1000, 16 * 1024);
  BOOST_TEST_MESSAGE("frame of " << bytes.size() << " bytes reads as " << 1000 * 16 << " KiB");

  // Without a traversal bound the crafted message is valid: every node shares the text.
  decode_limits unbounded;
  unbounded.traversal_factor = 1000;
  const auto result = decode_string(bytes, unbounded);
  const auto* env = std::get_if<envelope>(&result);
  BOOST_TEST_REQUIRE(env, "the crafted message is not valid Cap'n Proto");
  const auto& nodes = std::get<node_list_reply>(env->body).nodes;
  BOOST_TEST_REQUIRE(nodes.size() == 1000u);
  BOOST_TEST(nodes[999].node_id == std::string(16 * 1024, 'a'));

  const auto failure = expect_failure(bytes);  // the default traversal factor: 4
  BOOST_TEST(kind_name(failure.kind) == "malformed");
  BOOST_TEST(failure.message.find("traversal limit") != std::string::npos, failure.message);
  BOOST_TEST_REQUIRE(failure.request_id.has_value());
  BOOST_TEST(*failure.request_id == 64u);
}

// A list of zero-sized elements occupies no bytes whatever its length: Cap'n Proto charges
// such lists to the traversal limit per element, so 2^29 - 1 empty nodes cost no memory.
BOOST_AUTO_TEST_CASE(a_list_claiming_half_a_billion_empty_elements_is_malformed) {
  capnp::MallocMessageBuilder builder;
  auto reply = start(builder, 65).getBody().initNodeListReply();
  // NodeListReply has no data section, so its pointer section (nodes = pointer 0) starts
  // where the empty data section ends. List pointer: offset 0, element size 0 (void).
  auto* nodes_pointer = capnp::AnyStruct::Builder(kj::mv(reply)).getDataSection().end();
  const uint64_t void_list = (uint64_t{(1u << 29) - 1} << 35) | 1u;
  std::memcpy(nodes_pointer, &void_list, 8);

  const auto failure = expect_failure(flat(builder));
  BOOST_TEST(kind_name(failure.kind) == "malformed");
  BOOST_TEST(failure.message.find("traversal limit") != std::string::npos, failure.message);
}

BOOST_AUTO_TEST_CASE(a_message_over_a_tight_traversal_limit_is_malformed) {
  const auto bytes = encode(sample_of("node_list_reply"));  // well over 64 words
  decode_limits tight;
  tight.traversal_factor = 0;  // leaves the fixed allowance of 64 words
  BOOST_TEST(kind_name(expect_failure(bytes, tight).kind) == "malformed");

  tight.traversal_factor = 1;  // an honest message reads each word once
  BOOST_TEST(std::holds_alternative<envelope>(decode_string(bytes, tight)));
}

BOOST_AUTO_TEST_CASE(a_message_nested_deeper_than_the_nesting_limit_is_malformed) {
  // Our schemas are not recursive: the deepest path (Envelope > NodeListReply > nodes >
  // NodeStatus > Resources > gpus > GpuInfo) needs a nesting limit of 7 (the default is 16).
  // A tighter limit stands in for a deeply nested message from a hostile peer.
  const auto bytes = encode(sample_of("node_list_reply"));
  decode_limits limits;
  limits.nesting_limit = 6;
  const auto failure = expect_failure(bytes, limits);
  BOOST_TEST(kind_name(failure.kind) == "malformed");
  BOOST_TEST(failure.message.find("nesting limit") != std::string::npos, failure.message);
  limits.nesting_limit = 7;
  BOOST_TEST(std::holds_alternative<envelope>(decode_string(bytes, limits)));
}

BOOST_AUTO_TEST_CASE(a_failure_reply_to_malformed_input_is_an_invalid_request_error) {
  const std::string garbage(64, '\x7f');
  const auto failure = expect_failure(garbage);
  BOOST_TEST(kind_name(failure.kind) == "malformed");
  const auto reply = failure_reply(failure, "head");
  const auto* err = std::get_if<error>(&reply.body);
  BOOST_TEST_REQUIRE(err);
  BOOST_TEST(to_string(err->code) == std::string("invalid_request"));
  BOOST_TEST(err->message == failure.message);
  BOOST_TEST(reply.request_id == failure.request_id.value_or(0));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::msg::test
