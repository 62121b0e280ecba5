// The JSON bodies of the inference endpoints (docs/http.md), read into rows of features and
// written from a prediction: the Open Inference Protocol's (KServe v2) tensors and the plain
// `{"features": ...}` form. Every refusal says what is wrong, fit for the client.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cluster/inference/predictor.hpp"

namespace troupe::inference_http {

struct feature_rows {
  uint32_t rows = 0;
  uint32_t feature_count = 0;
  std::vector<float> features;  // rows × feature_count, row-major
  std::string id;               // a v2 request's "id", echoed; empty when none
  bool single = false;          // v1: `features` was one flat row
};

using read_result = std::variant<feature_rows, std::string>;  // or why not

// A v2 tensor's `data` is nested at most this deep and holds at most this many values.
inline constexpr int max_data_depth = 8;
inline constexpr uint64_t max_tensor_values = uint64_t{1} << 28;

// POST /v2/models/{name}/infer: {"inputs": [{"name", "shape": [rows, features] (or [features]),
// "datatype": FP32|FP64|INT8..64|UINT8..64, "data": flat or nested}], "id"?}. One input, of
// any name.
read_result read_v2_infer(const std::string& body);
// POST /v1/models/{name}/predict: {"features": [f, ...]} or {"features": [[f, ...], ...]}.
read_result read_v1_predict(const std::string& body);
// The same readers without their fast path (tensor_scan.hpp): a JSON document of nlohmann-json,
// each refusal naming the field and the index.
read_result read_v2_infer_json(const std::string& body);
read_result read_v1_predict_json(const std::string& body);

// The v2 response: model_name, model_version, id (when asked with one), and one output tensor
// (FP32, [rows, outputs], flattened row-major): "probabilities" of a classifier, "predictions"
// of a regression.
std::string write_v2_infer(const inference::prediction_result& r, const std::string& id);
// The v1 response: predictions (class labels of a classifier, else values), probabilities (a
// classifier's; null otherwise) and model_version; one row's answer unwrapped when `single`.
std::string write_v1_predict(const inference::prediction_result& r, bool single);

// Appends `value` as a JSON number, the shortest text that reads back as the same float.
void append_float(std::string& out, float value);

}  // namespace troupe::inference_http
