// Fuzz target: the inference endpoints' body readers, which read what any HTTP client sends.
// Whatever the bytes, for both bodies (v1 predict, v2 infer): the fast path (tensor_scan.hpp)
// either declines or reads exactly the rows the full reader (nlohmann-json) reads, value for
// value, bit for bit; and the readers the endpoints call answer as the full reader does.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cluster/inference_http/tensor_json.hpp"
#include "cluster/inference_http/tensor_scan.hpp"

using namespace troupe::inference_http;

namespace {

bool same_rows(const feature_rows& a, const feature_rows& b) {
  return a.rows == b.rows && a.feature_count == b.feature_count && a.id == b.id &&
         a.single == b.single && a.features.size() == b.features.size() &&
         (a.features.empty() || std::memcmp(a.features.data(), b.features.data(),
                                            a.features.size() * sizeof(float)) == 0);
}

bool same_result(const read_result& a, const read_result& b) {
  if (a.index() != b.index()) return false;
  if (const auto* why = std::get_if<std::string>(&a)) return *why == std::get<std::string>(b);
  return same_rows(std::get<feature_rows>(a), std::get<feature_rows>(b));
}

void check(const std::optional<feature_rows>& fast, const read_result& full,
           const read_result& served) {
  if (fast) {
    const auto* rows = std::get_if<feature_rows>(&full);
    if (!rows || !same_rows(*fast, *rows)) std::abort();
  }
  if (!same_result(served, full)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  check(scan_v1_predict(body), read_v1_predict_json(body), read_v1_predict(body));
  check(scan_v2_infer(body), read_v2_infer_json(body), read_v2_infer(body));
  return 0;
}
