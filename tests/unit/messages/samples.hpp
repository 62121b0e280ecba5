// Fixed, non-default values for every message kind, shared by the round-trip and golden
// suites, and small helpers for inspecting decode results in tests.
//
// The golden files in tests/data/golden/ were encoded from exactly these values: changing a
// value here means regenerating them (see tests/data/golden/README.md).
#pragma once

#include <string>
#include <vector>

#include "messages/codec.hpp"

namespace troupe::msg::test {

struct sample {
  std::string kind;  // snake_case message kind; also the golden file's name without ".bin"
  envelope env;
};

// One sample per alternative of msg::body, in the variant's order.
std::vector<sample> samples();

// The sample envelope of one kind, e.g. "node_list_reply".
envelope sample_of(const std::string& kind);

// A NodeStatus with every field set, the `seed` varying the values between nodes.
node_status sample_node(int seed);

// Name of a failure kind, so that BOOST_TEST can print what it compares.
std::string kind_name(failure_kind kind);

// decode() of a whole string (Cap'n Proto's flat framing, as encode() produces).
decode_result decode_string(const std::string& bytes, const decode_limits& limits = {});

}  // namespace troupe::msg::test
