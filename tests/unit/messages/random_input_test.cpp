// Malformed input, part 1: random and damaged bytes. decode() must never throw and must
// refuse what it cannot read; the seed is printed and replayable with TROUPE_TEST_SEED=<n>.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "samples.hpp"

namespace troupe::msg::test {
namespace {

uint64_t test_seed() {
  static const uint64_t seed = []() -> uint64_t {
    if (const char* s = std::getenv("TROUPE_TEST_SEED")) return std::stoull(s, nullptr, 0);
    std::random_device device;
    return (uint64_t{device()} << 32) | device();
  }();
  return seed;
}

// Decodes and names the outcome: a failure kind, "decoded", or "threw" (a test error).
std::string decode_outcome(const void* data, size_t size) {
  try {
    const auto result = decode(data, size);
    const auto* failure = std::get_if<decode_failure>(&result);
    return failure ? kind_name(failure->kind) : "decoded";
  } catch (const std::exception& e) {
    BOOST_ERROR("decode threw: " << e.what());
  } catch (...) {
    BOOST_ERROR("decode threw something that is not a std::exception");
  }
  return "threw";
}

// A generator for one test case, seeded from the run's seed, which it prints for replay.
std::mt19937_64 seeded_rng(uint64_t salt) {
  BOOST_TEST_MESSAGE("seed " << test_seed() << " (replay with TROUPE_TEST_SEED=" << test_seed()
                             << ")");
  return std::mt19937_64(test_seed() ^ salt);
}

// An 8-byte-aligned scratch buffer from which bytes can be handed out at any offset.
class scratch {
 public:
  explicit scratch(size_t max_bytes) : words_(max_bytes / 8 + 2) {}
  char* at(size_t offset) { return reinterpret_cast<char*>(words_.data()) + offset; }

 private:
  std::vector<uint64_t> words_;
};

void report(const std::map<std::string, int>& outcomes) {
  std::string line = "outcomes:";
  for (const auto& [name, count] : outcomes) line += " " + name + " " + std::to_string(count);
  BOOST_TEST_MESSAGE(line);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(malformed_input)

BOOST_AUTO_TEST_CASE(random_buffers_never_throw_and_are_all_refused) {
  auto rng = seeded_rng(0);
  constexpr size_t max_len = 2048;
  scratch buffer(max_len + 8);
  std::map<std::string, int> outcomes;
  BOOST_TEST_CONTEXT("seed " << test_seed()) {
    for (int i = 0; i < 20'000; ++i) {
      size_t len = std::uniform_int_distribution<size_t>(0, max_len)(rng);
      if (i % 2 == 0) len -= len % 8;  // half are whole words, so they reach Cap'n Proto
      char* data = buffer.at(i % 8);   // aligned, or misaligned by 1..7 bytes
      for (size_t b = 0; b < len; ++b) data[b] = static_cast<char>(rng());
      const auto outcome = decode_outcome(data, len);
      ++outcomes[outcome];
      BOOST_TEST(outcome != "decoded", "random buffer " << i << " decoded");
    }
  }
  report(outcomes);
}

// A valid segment table, root pointer and header (version 1, a body kind from 0 to 13) in
// front of random words, so that the body's decoding meets random pointers.
BOOST_AUTO_TEST_CASE(random_bodies_behind_a_valid_envelope_header_never_throw) {
  auto rng = seeded_rng(1);
  scratch buffer(8 * 259);
  std::map<std::string, int> outcomes;
  BOOST_TEST_CONTEXT("seed " << test_seed()) {
    for (int i = 0; i < 20'000; ++i) {
      const auto words = std::uniform_int_distribution<uint32_t>(5, 256)(rng);
      const size_t size = 8 + 8 * size_t{words};
      char* data = buffer.at(i % 8);
      // Mostly small byte values, so that pointers often land inside the segment.
      for (size_t b = 0; b < size; ++b) data[b] = static_cast<char>(rng() % 4 ? rng() % 4 : rng());
      const auto kind = static_cast<uint32_t>(rng() % 14);
      // Segment table (one segment of `words` words); root struct pointer (2 data words,
      // 2 pointers); data word 0 (protocolVersion 1, the body's discriminant); data word 1
      // (requestId 42); pointer 0 (sender: null, reads as ""). Pointer 1, the body, is random.
      const uint32_t header[10] = {0, words, 0, 2 | (2 << 16), 1 | (kind << 16), 0, 42, 0, 0, 0};
      std::memcpy(data, header, sizeof header);
      ++outcomes[decode_outcome(data, size)];
    }
  }
  report(outcomes);
  BOOST_TEST(outcomes["threw"] == 0);
}

// Cap'n Proto has no checksum: a damaged message may decode with other values. It must
// still never throw.
BOOST_AUTO_TEST_CASE(valid_messages_with_random_bytes_changed_never_throw) {
  auto rng = seeded_rng(2);
  const auto all = samples();
  std::map<std::string, int> outcomes;
  BOOST_TEST_CONTEXT("seed " << test_seed()) {
    for (int i = 0; i < 20'000; ++i) {
      auto bytes = encode(all[i % all.size()].env);
      const int changes = std::uniform_int_distribution<int>(1, 4)(rng);
      for (int c = 0; c < changes; ++c) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      ++outcomes[decode_outcome(bytes.data(), bytes.size())];
    }
  }
  report(outcomes);
  BOOST_TEST(outcomes["threw"] == 0);
}

// The segment table states the segment's length, so no prefix of a message is complete.
BOOST_AUTO_TEST_CASE(every_truncation_of_a_valid_message_is_refused_as_malformed) {
  for (const auto& s : samples()) {
    const auto bytes = encode(s.env);
    scratch buffer(bytes.size() + 8);
    for (size_t offset : {size_t{0}, size_t{3}}) {
      char* data = buffer.at(offset);
      std::memcpy(data, bytes.data(), bytes.size());
      for (size_t len = 0; len < bytes.size(); ++len) {
        BOOST_TEST(decode_outcome(data, len) == "malformed", s.kind << " cut to " << len);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(bytes_after_a_valid_message_make_the_frame_malformed) {
  for (const auto& s : samples()) {
    for (size_t extra : {size_t{8}, size_t{64}}) {
      auto bytes = encode(s.env) + std::string(extra, '\0');
      BOOST_TEST(decode_outcome(bytes.data(), bytes.size()) == "malformed",
                 s.kind << " with " << extra << " trailing bytes");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_frame_over_the_size_limit_is_refused_as_too_large) {
  const auto bytes = encode(sample_of("node_list_reply"));
  decode_limits limits;
  limits.max_frame_bytes = bytes.size();
  BOOST_TEST(std::holds_alternative<envelope>(decode_string(bytes, limits)));

  limits.max_frame_bytes = bytes.size() - 1;
  const auto result = decode_string(bytes, limits);
  const auto* failure = std::get_if<decode_failure>(&result);
  BOOST_TEST_REQUIRE(failure);
  BOOST_TEST(kind_name(failure->kind) == "too_large");
  BOOST_TEST(!failure->request_id.has_value());  // refused before parsing

  // With the default limit (1 MiB), one word more is refused before Cap'n Proto sees it.
  const std::string huge(decode_limits{}.max_frame_bytes + 8, '\0');
  const auto big = decode_string(huge);
  BOOST_TEST_REQUIRE(std::holds_alternative<decode_failure>(big));
  BOOST_TEST(kind_name(std::get<decode_failure>(big).kind) == "too_large");

  const auto reply = failure_reply(*failure, "head");
  const auto* err = std::get_if<error>(&reply.body);
  BOOST_TEST_REQUIRE(err);
  BOOST_TEST(to_string(err->code) == std::string("invalid_request"));
}

BOOST_AUTO_TEST_CASE(a_wrong_protocol_version_is_refused_with_its_request_id) {
  for (int version : {0, 2, 65535}) {
    auto env = sample_of("register_node_request");
    env.version = static_cast<uint16_t>(version);
    env.request_id = 0xfeed'0000'0000'0077ULL;
    const auto result = decode_string(encode(env));
    const auto* failure = std::get_if<decode_failure>(&result);
    BOOST_TEST_REQUIRE(failure, "version " << version << " was accepted");
    BOOST_TEST(kind_name(failure->kind) == "wrong_version");
    BOOST_TEST_REQUIRE(failure->request_id.has_value());
    BOOST_TEST(*failure->request_id == env.request_id);

    const auto reply = failure_reply(*failure, "head");
    BOOST_TEST(reply.request_id == env.request_id);
    BOOST_TEST(reply.version == protocol_version);
    const auto* err = std::get_if<error>(&reply.body);
    BOOST_TEST_REQUIRE(err);
    BOOST_TEST(to_string(err->code) == std::string("invalid_request"));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::msg::test
