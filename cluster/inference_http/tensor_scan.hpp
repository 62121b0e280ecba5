// The fast path of the inference endpoints' body reader: the shapes clients send, read in one
// pass with std::from_chars straight into the rows' float buffer, without a JSON document.
//
// Contract: a scan returns rows only when the body is plainly one of those shapes and the full
// reader (tensor_json.hpp's read_*_json, nlohmann-json) would read the very same rows from it,
// value for value; for anything else (another key, an escape in a string, a number beyond FP32,
// ragged rows, malformed JSON...) it returns nullopt and the caller reads the body with the full
// reader, which names the problem. So the answers to bad input stay the full reader's.
// tests/fuzz/tensor_json.cpp checks the contract on arbitrary bodies.
#pragma once

#include <optional>
#include <string_view>

#include "cluster/inference_http/tensor_json.hpp"

namespace troupe::inference_http {

// {"features": [f, ...]} or {"features": [[f, ...], ...]}: the only key.
std::optional<feature_rows> scan_v1_predict(std::string_view body);
// {"inputs": [{"name": "...", "shape": [..], "datatype": "FP32", "data": [..]}], "id"?: "..."}:
// those keys only, in any order; `data` flat or nested.
std::optional<feature_rows> scan_v2_infer(std::string_view body);

// Whether `c` stands for itself inside a JSON string: printable ASCII, not a quote or a
// backslash (no escape, no UTF-8 to validate).
inline bool plain_json_char(char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

}  // namespace troupe::inference_http
