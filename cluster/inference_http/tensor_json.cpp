#include "cluster/inference_http/tensor_json.hpp"

#include "cluster/inference_http/tensor_scan.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace troupe::inference_http {
namespace {

using nlohmann::json;

struct datatype {
  const char* name;
  bool integer;
  double low, high;
};

constexpr datatype datatypes[] = {
    {"FP32", false, -std::numeric_limits<float>::max(), std::numeric_limits<float>::max()},
    {"FP64", false, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max()},
    {"INT8", true, -128, 127},
    {"INT16", true, -32768, 32767},
    {"INT32", true, -2147483648.0, 2147483647.0},
    {"INT64", true, -9.2233720368547758e18, 9.2233720368547758e18},
    {"UINT8", true, 0, 255},
    {"UINT16", true, 0, 65535},
    {"UINT32", true, 0, 4294967295.0},
    {"UINT64", true, 0, 1.8446744073709552e19},
};

const datatype* find_datatype(const std::string& name) {
  for (const auto& d : datatypes)
    if (name == d.name) return &d;
  return nullptr;
}

std::string parse_problem(const std::string& body, json& out) {
  try {
    out = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999
    return std::string("the body is not JSON: ") + e.what();
  }
  if (!out.is_object()) return "the body must be a JSON object";
  return "";
}

// Appends the numbers of `value` (a number, or arrays of them nested at most `depth` deep) to
// `out` as `type` allows.
std::string flatten(const json& value, const datatype& type, const std::string& what, int depth,
                    std::vector<float>& out) {
  if (value.is_array()) {
    if (depth == 0) return what + " holds an array where a number belongs";
    for (const auto& v : value)
      if (auto problem = flatten(v, type, what, depth - 1, out); !problem.empty()) return problem;
    return "";
  }
  if (!value.is_number()) return what + " holds a " + value.type_name() + "; only numbers";
  const double x = value.get<double>();
  // Built only for a refusal: this runs for every number of every request.
  const auto at = [&] { return " (value " + std::to_string(out.size()) + ")"; };
  if (!std::isfinite(x)) return what + " holds a number that is not finite" + at();
  if (type.integer && !value.is_number_integer())
    return what + " holds " + value.dump() + ", not an integer of " + type.name + at();
  if (x < type.low || x > type.high)
    return what + " holds " + value.dump() + ", out of the range of " + type.name + at();
  const auto f = static_cast<float>(x);
  if (!std::isfinite(f)) return what + " holds " + value.dump() + ", beyond FP32" + at();
  out.push_back(f);
  return "";
}

void append_json_string(std::string& out, const std::string& text) {
  if (std::all_of(text.begin(), text.end(), plain_json_char)) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

void append_floats(std::string& out, const float* values, size_t n) {
  out += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_float(out, values[i]);
  }
  out += ']';
}

bool is_classifier(const inference::prediction_result& r) {
  return r.signature.outputs != inference::output_kind::values;
}

// A classifier's label of one row: its class name, else the index of its highest probability.
void append_label(std::string& out, const inference::prediction_result& r, const float* row) {
  uint32_t best = 0;
  for (uint32_t k = 1; k < r.output_count; ++k)
    if (row[k] > row[best]) best = k;
  if (best < r.signature.classes.size())
    append_json_string(out, r.signature.classes[best]);
  else
    out += std::to_string(best);
}

// One row's prediction: a label, a value, or a list of values.
void append_prediction(std::string& out, const inference::prediction_result& r, const float* row) {
  if (is_classifier(r)) return append_label(out, r, row);
  if (r.output_count == 1) return append_float(out, row[0]);
  append_floats(out, row, r.output_count);
}

}  // namespace

void append_float(std::string& out, float value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, ec == std::errc() ? end : buf);
}

read_result read_v2_infer(const std::string& body) {
  if (auto rows = scan_v2_infer(body)) return std::move(*rows);
  return read_v2_infer_json(body);
}

read_result read_v1_predict(const std::string& body) {
  if (auto rows = scan_v1_predict(body)) return std::move(*rows);
  return read_v1_predict_json(body);
}

read_result read_v2_infer_json(const std::string& body) {
  json doc;
  if (auto problem = parse_problem(body, doc); !problem.empty()) return problem;
  feature_rows out;
  if (doc.contains("id")) {
    if (!doc["id"].is_string()) return std::string("`id` must be a string");
    out.id = doc["id"].get<std::string>();
  }
  const auto inputs = doc.find("inputs");
  if (inputs == doc.end() || !inputs->is_array()) return std::string("`inputs` must be an array");
  if (inputs->size() != 1)
    return "the model takes one input; `inputs` has " + std::to_string(inputs->size());
  const auto& input = (*inputs)[0];
  if (!input.is_object()) return std::string("`inputs[0]` must be an object");
  const auto name = input.find("name");
  if (name == input.end() || !name->is_string())
    return std::string("`inputs[0].name` must be a string");
  const auto dt = input.find("datatype");
  if (dt == input.end() || !dt->is_string())
    return std::string("`inputs[0].datatype` must be a string");
  const auto* type = find_datatype(dt->get<std::string>());
  if (!type)
    return "`inputs[0].datatype` " + dt->dump() + " is not supported: FP32, FP64, INT8..INT64 " +
           "or UINT8..UINT64";
  const auto shape = input.find("shape");
  if (shape == input.end() || !shape->is_array() || shape->empty() || shape->size() > 2)
    return std::string("`inputs[0].shape` must be [rows, features] (or [features])");
  uint64_t dims[2] = {1, 0};
  for (size_t i = 0; i < shape->size(); ++i) {
    const auto& d = (*shape)[i];
    if (!d.is_number_unsigned() || d.get<uint64_t>() == 0 || d.get<uint64_t>() > max_tensor_values)
      return "`inputs[0].shape` " + shape->dump() + " must hold positive integers";
    dims[2 - shape->size() + i] = d.get<uint64_t>();
  }
  if (dims[0] * dims[1] > max_tensor_values)
    return "`inputs[0].shape` " + shape->dump() + " is too large";
  const auto data = input.find("data");
  if (data == input.end() || !data->is_array())
    return std::string("`inputs[0].data` must be an array");
  out.features.reserve(dims[0] * dims[1]);
  if (auto problem = flatten(*data, *type, "`inputs[0].data`", max_data_depth, out.features);
      !problem.empty())
    return problem;
  if (out.features.size() != dims[0] * dims[1])
    return "`inputs[0].shape` " + shape->dump() + " needs " + std::to_string(dims[0] * dims[1]) +
           " values; `data` has " + std::to_string(out.features.size());
  out.rows = static_cast<uint32_t>(dims[0]);
  out.feature_count = static_cast<uint32_t>(dims[1]);
  return out;
}

read_result read_v1_predict_json(const std::string& body) {
  json doc;
  if (auto problem = parse_problem(body, doc); !problem.empty()) return problem;
  const auto features = doc.find("features");
  if (features == doc.end() || !features->is_array() || features->empty())
    return std::string("`features` must be a non-empty array of numbers, or of rows of them");
  feature_rows out;
  static const datatype fp32 = datatypes[0];
  if (!(*features)[0].is_array()) {
    out.single = true;
    if (auto problem = flatten(*features, fp32, "`features`", 1, out.features); !problem.empty())
      return problem;
    out.rows = 1;
    out.feature_count = static_cast<uint32_t>(out.features.size());
    return out;
  }
  for (size_t i = 0; i < features->size(); ++i) {
    const auto& row = (*features)[i];
    const auto what = "`features[" + std::to_string(i) + "]`";
    if (!row.is_array() || row.empty()) return what + " must be a non-empty array of numbers";
    if (i && row.size() != out.feature_count)
      return what + " has " + std::to_string(row.size()) + " features; `features[0]` has " +
             std::to_string(out.feature_count);
    out.feature_count = static_cast<uint32_t>(row.size());
    if (auto problem = flatten(row, fp32, what, 1, out.features); !problem.empty()) return problem;
  }
  out.rows = static_cast<uint32_t>(features->size());
  return out;
}

std::string write_v2_infer(const inference::prediction_result& r, const std::string& id) {
  std::string out = "{\"model_name\":";
  append_json_string(out, r.model_name);
  out += ",\"model_version\":\"" + std::to_string(r.model_version) + "\"";
  if (!id.empty()) {
    out += ",\"id\":";
    append_json_string(out, id);
  }
  out += ",\"outputs\":[{\"name\":\"";
  out += is_classifier(r) ? "probabilities" : "predictions";
  out += "\",\"datatype\":\"FP32\",\"shape\":[" + std::to_string(r.rows) + "," +
         std::to_string(r.output_count) + "],\"data\":";
  append_floats(out, r.outputs.data(), r.outputs.size());
  out += "}]}";
  return out;
}

std::string write_v1_predict(const inference::prediction_result& r, bool single) {
  const auto row = [&](uint32_t i) { return r.outputs.data() + size_t{i} * r.output_count; };
  std::string out = "{\"predictions\":";
  if (single) {
    append_prediction(out, r, row(0));
  } else {
    out += '[';
    for (uint32_t i = 0; i < r.rows; ++i) {
      if (i) out += ',';
      append_prediction(out, r, row(i));
    }
    out += ']';
  }
  out += ",\"probabilities\":";
  if (!is_classifier(r)) {
    out += "null";
  } else if (single) {
    append_floats(out, row(0), r.output_count);
  } else {
    out += '[';
    for (uint32_t i = 0; i < r.rows; ++i) {
      if (i) out += ',';
      append_floats(out, row(i), r.output_count);
    }
    out += ']';
  }
  out += ",\"model_version\":" + std::to_string(r.model_version) + "}";
  return out;
}

}  // namespace troupe::inference_http
