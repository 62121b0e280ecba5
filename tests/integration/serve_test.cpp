// Serve jobs end to end with real daemons on loopback (serve_support.hpp): a served model
// asked over the protocol with `troupe predict` answers each request with the model's own
// forward pass, row for row, also for concurrent requests that the replicas' batchers join, and
// refuses rows of another width. A replica's process killed is replaced alone while the other
// answers every request. Nodes given `--serve-ports` have their replicas listen within that
// range. A service with `auth: {tokens: optional}` and a `cache` answers curl without a token,
// repeats from the head's cache (counted on /metrics), and the replicas' figures (rows per
// forward pass, queue depth) reach the nodes' and the head's /metrics, which promtool accepts.
// Versions, promotions and reloads: serve_versions_test.cpp.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <future>
#include <regex>
#include <set>

#include "tests/integration/serve_support.hpp"

using namespace troupe::local;
using namespace troupe::local::serve_testing;
using troupe::test::http_call;
using troupe::test::http_get;

BOOST_AUTO_TEST_SUITE(serve_jobs)

BOOST_AUTO_TEST_CASE(a_served_model_answers_with_its_own_forward_pass_row_for_row) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  served_model s;
  const auto listed = json::parse(s.c.troupe({"services", "--json"}).out);
  BOOST_TEST(listed[0]["model"] == "mlp", listed.dump());
  BOOST_TEST(listed[0]["versions"][0]["version"] == 1, listed.dump());
  BOOST_TEST(listed[0]["versions"][0]["input_features"] == 4, listed.dump());
  for (int count : {1, 3, 50}) {
    const auto rows = rows_of(count, count);
    const auto answer = s.predict(rows);
    BOOST_TEST(answer["model"] == "mlp");
    BOOST_TEST(answer["model_version"] == 1);
    check_rows(answer["outputs"], forward_pass(s.module, rows));
  }
  const auto counted = json::parse(s.c.troupe({"services", "--json"}).out);
  BOOST_TEST(counted[0]["versions"][0]["requests"] == 3, counted.dump());
}

BOOST_AUTO_TEST_CASE(concurrent_requests_are_answered_with_exactly_their_own_rows) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  served_model s;
  std::vector<std::future<json>> answers;
  for (int client = 0; client < 8; ++client)
    answers.push_back(std::async(
        std::launch::async, [&s, client] { return s.predict(rows_of(client, client % 3 + 1)); }));
  for (int client = 0; client < 8; ++client) {
    const auto rows = rows_of(client, client % 3 + 1);
    check_rows(answers[size_t(client)].get()["outputs"], forward_pass(s.module, rows));
  }
}

BOOST_AUTO_TEST_CASE(a_feature_count_other_than_the_models_is_refused_with_the_count) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  served_model s;
  const auto out = s.c.troupe({"predict", "mlp-service", R"({"features": [1, 2, 3]})"});
  BOOST_TEST(out.exit_code == 1);
  BOOST_TEST(out.err.find("takes 4 features per row, got 3") != std::string::npos, out.err);
  const auto unknown = s.c.troupe({"predict", "nope", R"({"features": [1, 2, 3, 4]})"});
  BOOST_TEST(unknown.exit_code == 1);
  BOOST_TEST(unknown.err.find("no service nope is running") != std::string::npos, unknown.err);
}

BOOST_AUTO_TEST_CASE(a_killed_replica_is_replaced_alone_while_every_request_keeps_succeeding) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  served_model s;
  const auto kept = s.running_attempt(0);
  const auto killed = s.running_attempt(1);
  BOOST_TEST_REQUIRE((!kept.empty() && !killed.empty()), s.job(s.service_job).dump(2));
  const auto pids = processes_with("TROUPE_ATTEMPT_ID=" + killed);
  BOOST_TEST_REQUIRE(pids.size() == 1u);
  continuous_client client(s);
  BOOST_TEST_REQUIRE(client.answers(3));
  ::kill(pids[0], SIGKILL);
  // Task 1 runs a new attempt, task 0 the same one, and both replicas are ready again.
  const auto replaced = [&] {
    const auto now = s.running_attempt(1);
    return !now.empty() && now != killed && s.running_attempt(0) == kept && s.ready_replicas() == 2;
  };
  BOOST_TEST_REQUIRE(wait_until(replaced, s.job_limit),
                     s.job(s.service_job).dump(2) + s.all_logs(s.service_job) + s.c.dump_logs());
  BOOST_TEST(client.answers(3));
  const auto failures = client.stop();
  BOOST_TEST(failures.empty(), failures.size() << " requests failed, the first: "
                                               << (failures.empty() ? "" : failures[0]));
  const auto j = s.job(s.service_job);
  BOOST_TEST(j["state"] == "RUNNING", j.dump(2));
  BOOST_TEST(j["attempts"].size() == 3u, j.dump(2));
  for (const auto& a : j["attempts"])
    if (a["id"] == killed) BOOST_TEST(a["signal"] == SIGKILL, j.dump(2));
}

BOOST_AUTO_TEST_CASE(replicas_listen_within_their_nodes_serve_ports) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  // Both nodes are on this machine: the second replica finds the first port taken.
  const int first = 41000 + static_cast<int>(::getpid() % 1000) * 20, last = first + 9;
  rank_cluster r(1, 180s, "",
                 {"--serve-ports", std::to_string(first) + "-" + std::to_string(last)});
  train_versions(r, 1);
  const production_service service(r);
  std::set<int> ports;
  for (int task = 0; task < 2; ++task) {
    const auto log = r.logs(service.job, task);
    std::smatch m;
    BOOST_TEST_REQUIRE(
        std::regex_search(log, m, std::regex(R"(prediction socket at tcp://[^:]+:(\d+))")), log);
    ports.insert(std::stoi(m[1]));
  }
  BOOST_TEST(ports.size() == 2u);
  for (int port : ports) BOOST_TEST((port >= first && port <= last), port);
}

BOOST_AUTO_TEST_CASE(an_open_cached_service_answers_curl_without_a_token_and_shows_its_figures) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  rank_cluster r(1, 180s);
  train_versions(r, 1);
  production_service service(r, open_cached);
  const auto listed = json::parse(r.c.troupe({"services", "--json"}).out);
  BOOST_TEST(listed[0]["auth"]["tokens"] == "optional", listed.dump());
  BOOST_TEST(listed[0]["cache"]["entries"] == 100, listed.dump());
  BOOST_TEST(listed[0]["cache"]["ttl_s"] == 600, listed.dump());
  const auto head = r.c.head().http_address();
  const auto body = json{{"features", rows_of(5, 3)}}.dump();
  const auto first = http_call(r.c, "POST", head, "/v1/models/mlp-service/predict", "", body);
  BOOST_TEST_REQUIRE(first.status == 200, first.body + r.all_logs(service.job));
  const auto hits = std::max(0.0, cache_hits(r));
  const auto again = http_call(r.c, "POST", head, "/v1/models/mlp-service/predict", "", body);
  BOOST_TEST(again.status == 200);
  BOOST_TEST(again.body == first.body);
  BOOST_TEST(cache_hits(r) == hits + 1);
  const auto metrics = http_get(r.c, head, "/metrics").body;
  BOOST_TEST(
      summed(metrics, "troupe_inference_cache_misses_total", R"(service="mlp-service")") >= 1,
      metrics);
  // The model list is no endpoint of the service: it still needs a token.
  BOOST_TEST(http_get(r.c, head, "/v1/models").status == 401);

  // Every forward pass so far reaches the figures once the replicas report (every second).
  const std::string labels = R"(service="mlp-service",version="1")";
  auto node_passes = [&] {
    double passes = 0;
    for (const char* node : {"node-1", "node-2"})
      passes += std::max(0.0, summed(http_get(r.c, r.c.node(node).http_address(), "/metrics").body,
                                     "troupe_node_replica_batch_rows_count", labels));
    return passes;
  };
  auto head_passes = [&] {
    return summed(http_get(r.c, head, "/metrics").body, "troupe_inference_batch_rows_count",
                  labels);
  };
  BOOST_TEST(wait_until([&] { return node_passes() >= 1 && head_passes() >= 1; }, r.job_limit),
             http_get(r.c, head, "/metrics").body);
  BOOST_TEST(summed(http_get(r.c, head, "/metrics").body, "troupe_inference_queue_depth", labels) >=
             0);
  BOOST_TEST(summed(http_get(r.c, r.c.node("node-1").http_address(), "/metrics").body,
                    "troupe_node_replica_queue_depth", labels) >= 0);
  for (const auto& address :
       {head, r.c.node("node-1").http_address(), r.c.node("node-2").http_address()})
    BOOST_TEST(promtool_problems(r, address) == "", address);
}

BOOST_AUTO_TEST_SUITE_END()
