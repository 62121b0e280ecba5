// Encoding and bounded decoding of envelopes. The only code that touches Cap'n Proto.
//
// Contract: decode() never throws and never reads past `size`; every malformed, truncated,
// oversized, too deep, wrong-version or unknown-kind input comes back as a decode_failure
// that says how to answer it. A decoded envelope holds only valid UTF-8 text and finite
// numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "messages/envelope.hpp"

namespace troupe::msg {

struct decode_limits {
  size_t max_frame_bytes = 1 << 20;  // larger frames are refused before parsing
  int nesting_limit = 16;            // NodeListReply needs 7
  // Words a reader may traverse, as a multiple of the frame's own size; stops
  // amplification through pointers that share data.
  uint64_t traversal_factor = 4;
};

enum class failure_kind { malformed, too_large, wrong_version, unknown_body };

struct decode_failure {
  failure_kind kind = failure_kind::malformed;
  std::string message;                 // plain, fit to send to the peer
  std::optional<uint64_t> request_id;  // when the header could still be read
  uint16_t body_ordinal = 0;           // for unknown_body: the union tag as received
  // For the receiver's own log only: Cap'n Proto's report (source locations, stack), if any.
  std::string detail;
};

using decode_result = std::variant<envelope, decode_failure>;

std::string encode(const envelope& env);
decode_result decode(const void* data, size_t size, const decode_limits& limits = {});

// The envelope to send back for a failed decode: `unimplemented` for an unknown body,
// an `error` (invalid_request) otherwise.
envelope failure_reply(const decode_failure& failure, std::string sender);

}  // namespace troupe::msg
