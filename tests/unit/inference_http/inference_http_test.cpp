// The head's inference endpoints (cluster/inference_http) on a real HTTP server, over a predictor
// that answers from a fixed table: conformance.py drives every endpoint and every bad case with
// Python's http.client; the tensor writers are checked here too.
#define BOOST_TEST_MODULE inference_http
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>

#include "cluster/http/server.hpp"
#include "cluster/inference_http/inference_routes.hpp"
#include "cluster/inference_http/tensor_json.hpp"
#include "cluster/inference_http/tensor_scan.hpp"
#include "tests/unit/http/raw_client.hpp"
#include "tests/unit/inference_http/table_predictor.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;

namespace {

constexpr uint64_t max_body = 64 * 1024;

store::app_token_record token(const std::string& name, char digit, const std::string& role,
                              uint32_t rate = 0, uint32_t burst = 0) {
  store::app_token_record t;
  t.name = name;
  t.tenant = "finance";
  t.role = role;
  t.secret_sha256 = security::app_token_digest("troupe_" + std::string(64, digit));
  t.rate_limit_per_s = rate;
  t.burst = burst;
  return t;
}

struct endpoints {
  test::table_predictor models;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<http::server> server;

  endpoints() {
    auto tokens = std::make_shared<security::app_token_registry>();
    auto revoked = token("old-app", '4', "predict");
    revoked.revoked_at_ms = 1'796'000'000'000;
    tokens->load({token("app1", '1', "predict"), token("ops", '2', "manage"),
                  token("limited-app", '3', "predict", 1, 2), revoked},
                 security::bucket_clock::now());
    http::router routes;
    inference_http::add_inference_routes(
        routes, {&models, tokens, std::make_shared<inference_http::inference_metrics>(*registry)});
    http::server_options o;
    o.max_body_bytes = max_body;
    o.read_deadline = std::chrono::milliseconds(500);
    server = std::make_unique<http::server>(o, std::move(routes));
    server->start();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(inference_endpoints)

BOOST_AUTO_TEST_CASE(every_endpoint_and_every_bad_input_answer_as_the_conformance_script_expects) {
  endpoints e;
  const auto script =
      std::string(std::getenv("TROUPE_SOURCE_DIR")) + "/tests/unit/inference_http/conformance.py";
  auto r = local::run_command(
      {"/usr/bin/python3", script, std::to_string(e.server->port()), std::to_string(max_body)},
      std::chrono::seconds(60));
  BOOST_TEST(r.exit_code == 0, r.out + r.err);
  BOOST_TEST(e.models.reloaded() == std::vector<std::string>{"txn"});
  const auto keys = e.models.routing_keys();
  BOOST_TEST(std::count(keys.begin(), keys.end(), "user-42") == 1);
}

BOOST_AUTO_TEST_CASE(requests_are_counted_per_service_version_and_status) {
  endpoints e;
  test::raw_client c(e.server->port());
  const std::string auth = "Authorization: Bearer troupe_" + std::string(64, '1') + "\r\n";
  auto send = [&](const std::string& path, const std::string& body, const std::string& headers) {
    c.send(test::post_request(path, body, headers));
    auto r = c.read_reply();
    BOOST_REQUIRE(r);
    return r->status;
  };
  BOOST_TEST(send("/v1/models/txn/predict", R"({"features": [[1, 2, 3], [0, 0, 0]]})", auth) ==
             200u);
  BOOST_TEST(
      send("/v2/models/txn/versions/3/infer",
           R"({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2, 3]}]})",
           auth) == 200u);
  BOOST_TEST(send("/v1/models/txn/predict", R"({"features": [1, 2]})", auth) == 400u);
  BOOST_TEST(send("/v1/models/made-up/predict", R"({"features": [1, 2, 3]})", auth) == 404u);
  BOOST_TEST(send("/v1/models/txn/predict", R"({"features": [1, 2, 3]})", "") == 401u);
  std::map<std::string, double> counts;
  for (const auto& family : e.registry->Collect())
    for (const auto& metric : family.metric) {
      std::string key = family.name;
      for (const auto& l : metric.label) key += " " + l.name + "=" + l.value;
      counts[key] = family.name == "troupe_inference_request_duration_seconds"
                        ? static_cast<double>(metric.histogram.sample_count)
                        : metric.counter.value;
    }
  BOOST_TEST(counts["troupe_inference_requests_total service=txn status=200 version=4"] == 1);
  BOOST_TEST(counts["troupe_inference_requests_total service=txn status=200 version=3"] == 1);
  BOOST_TEST(counts["troupe_inference_requests_total service=txn status=400 version=4"] == 1);
  BOOST_TEST(counts["troupe_inference_requests_total service= status=404 version=0"] == 1);
  BOOST_TEST(counts["troupe_inference_requests_total service= status=401 version=0"] == 1);
  BOOST_TEST(counts["troupe_inference_rows_total service=txn version=4"] == 2);
  BOOST_TEST(counts["troupe_inference_request_duration_seconds service=txn version=4"] == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tensor_json)

BOOST_AUTO_TEST_CASE(floats_are_written_in_their_shortest_exact_form) {
  std::string out;
  for (float f : {0.1f, 1.0f, -2.5f, 1e-7f, 3.4028235e38f}) {
    inference_http::append_float(out, f);
    out += ' ';
  }
  BOOST_TEST(out == "0.1 1 -2.5 1e-07 3.4028235e+38 ");
}

BOOST_AUTO_TEST_CASE(a_classifier_without_class_names_predicts_the_index_of_its_best_output) {
  inference::prediction_result r;
  r.model_version = 7;
  r.rows = 2;
  r.output_count = 3;
  r.outputs = {0.2f, 0.5f, 0.3f, 0.9f, 0.05f, 0.05f};
  r.signature.outputs = inference::output_kind::logits;
  BOOST_TEST(inference_http::write_v1_predict(r, false) ==
             R"({"predictions":[1,0],"probabilities":[[0.2,0.5,0.3],[0.9,0.05,0.05]],)"
             R"("model_version":7})");
}

BOOST_AUTO_TEST_CASE(the_fast_reader_reads_the_bodies_clients_send_as_the_full_reader_does) {
  using inference_http::feature_rows;
  const auto same = [](const feature_rows& a, const feature_rows& b) {
    return a.rows == b.rows && a.feature_count == b.feature_count && a.features == b.features &&
           a.id == b.id && a.single == b.single;
  };
  for (const std::string body : {
           R"({"features": [0.5, -1.25e-3, 3, -0, 1E+2, 12345678901234567890]})",
           "{\"features\":[[1,2,3],\n [-1.5, 0.0, 2e10]]}\r\n",
           R"({"features": [[0.1], [3.4028234e38], [-7]]})",
           // Where the exact fast path ends (15 digits, 10^±22) and from_chars takes over.
           R"({"features": [0.3, 123456789012345, 1234567890123456, 0.1234567890123456, 1e22,)"
           R"( 1e23, 9e-22, 9e-23, 4.5e+00010, 0.000000000000000001234, -0.0, 1E-0004, 7e00001]})",
           // 16 to 19 digits (Python's and nlohmann-json's doubles): near a float's rounding
           // boundary (365.60911560058588) and not.
           R"({"features": [0.8444218515250481, -0.25891675029296335, 365.60911560058588,)"
           R"( 1234567890123456789, -0.0000000000000000000, 9.999999999999999e-23, 1e-22]})",
       }) {
    const auto fast = inference_http::scan_v1_predict(body);
    const auto full = inference_http::read_v1_predict_json(body);
    BOOST_TEST_REQUIRE(fast.has_value(), body);
    BOOST_TEST_REQUIRE(std::holds_alternative<feature_rows>(full), body);
    BOOST_TEST(same(*fast, std::get<feature_rows>(full)), body);
  }
  for (const std::string body : {
           R"({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32",)"
           R"( "data": [[1, 2, 3], [4, 5, 6]]}], "id": "r-1"})",
           R"({"id":"a","inputs":[{"data":[1,2,3],"datatype":"FP32","shape":[3],"name":"in"}]})",
       }) {
    const auto fast = inference_http::scan_v2_infer(body);
    const auto full = inference_http::read_v2_infer_json(body);
    BOOST_TEST_REQUIRE(fast.has_value(), body);
    BOOST_TEST_REQUIRE(std::holds_alternative<feature_rows>(full), body);
    BOOST_TEST(same(*fast, std::get<feature_rows>(full)), body);
  }
}

BOOST_AUTO_TEST_CASE(a_body_the_fast_reader_declines_is_refused_as_the_full_reader_names_it) {
  const std::pair<std::string, std::string> v1_cases[] = {
      {R"({"features": [1, 1e39, 2]})",
       "`features` holds 1e+39, out of the range of FP32 (value 1)"},
      {R"({"features": [[1, 2, 3], [1, 2]]})", "`features[1]` has 2 features; `features[0]` has 3"},
      {R"({"features": [1, "2", 3]})", "`features` holds a string; only numbers"},
      {R"({"features": []})",
       "`features` must be a non-empty array of numbers, or of rows of them"},
  };
  for (const auto& [body, why] : v1_cases) {
    BOOST_TEST(!inference_http::scan_v1_predict(body).has_value(), body);
    const auto read = inference_http::read_v1_predict(body);
    BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(read), body);
    BOOST_TEST(std::get<std::string>(read) == why);
  }
  const std::string v2_body =
      R"({"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5]}]})";
  BOOST_TEST(!inference_http::scan_v2_infer(v2_body).has_value());
  const auto read = inference_http::read_v2_infer(v2_body);
  BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(read));
  BOOST_TEST(std::get<std::string>(read) == "`inputs[0].shape` [2,3] needs 6 values; `data` has 5");
}

BOOST_AUTO_TEST_CASE(class_labels_are_written_as_json_strings_escaped_where_they_need_it) {
  inference::prediction_result r;
  r.model_version = 2;
  r.rows = 2;
  r.output_count = 2;
  r.outputs = {0.75f, 0.25f, 0.5f, 1.0f};
  r.signature.outputs = inference::output_kind::logits;
  r.signature.classes = {"fraud \"likely\"", "ok"};
  BOOST_TEST(inference_http::write_v1_predict(r, false) ==
             R"({"predictions":["fraud \"likely\"","ok"],"probabilities":[[0.75,0.25],[0.5,1]],)"
             R"("model_version":2})");
}

BOOST_AUTO_TEST_SUITE_END()
