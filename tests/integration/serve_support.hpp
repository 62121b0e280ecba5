// What the serve job tests share (serve_test.cpp, serve_versions_test.cpp): a cluster of a head
// without a node agent and two one-CPU nodes, a small MLP trained there by a train job (so the
// registry has a version and its signature), the serve spec of its service of two replicas, and
// the checks of its answers (against the TorchScript module's own forward pass, by Debian's
// python3-torch) and of the daemons' /metrics (promtool).
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/http_calls.hpp"
#include "tests/integration/rank_cluster.hpp"

namespace troupe::local::serve_testing {

using nlohmann::json;
using test::http_get;

inline constexpr const char* train_spec = R"(name: mlp
kind: train
world_size: 1
resources: {cpus: 1}
model: {type: mlp, layers: [4, 16, 3]}
task: classification
data: {synthetic: {rows: 600, features: 4, classes: 3, seed: 7}}
optimizer: {name: sgd, lr: 0.05}
batch_size: 64
epochs: 1
seed: 1
)";

inline constexpr const char* serve_spec = R"(name: mlp-service
kind: serve
model: mlp
replicas: 2
resources: {cpus: 1}
batching: {max_batch: 64, max_delay_ms: 5}
)";

inline bool python_torch() {
  return run_command({"/usr/bin/python3", "-c", "import torch"}, 60s).exit_code == 0;
}

// Rows of 4 features, distinct per `seed`.
inline json rows_of(int seed, int count) {
  auto rows = json::array();
  for (int r = 0; r < count; ++r)
    rows.push_back({0.1 * seed + r, -0.5 * r, 0.25 * seed, 1.0 - 0.1 * r});
  return rows;
}

// The module's own answer to `rows`: the softmax of its logits, per row.
inline json forward_pass(const std::string& module, const json& rows) {
  const auto script =
      "import json, sys, torch\n"
      "m = torch.jit.load(sys.argv[1])\n"
      "x = torch.tensor(json.loads(sys.argv[2]), dtype=torch.float32)\n"
      "print(json.dumps(torch.softmax(m(x), dim=1).tolist()))\n";
  const auto out = run_command({"/usr/bin/python3", "-c", script, module, rows.dump()}, 60s);
  BOOST_TEST_REQUIRE(out.exit_code == 0, out.err);
  return json::parse(out.out);
}

inline void check_rows(const json& got, const json& expected) {
  BOOST_TEST_REQUIRE(got.size() == expected.size(), got.dump() << " vs " << expected.dump());
  for (size_t r = 0; r < got.size(); ++r) {
    BOOST_TEST_REQUIRE(got[r].size() == expected[r].size(), "row " << r);
    for (size_t i = 0; i < got[r].size(); ++i)
      BOOST_TEST(got[r][i].get<double>() == expected[r][i].get<double>(),
                 boost::test_tools::tolerance(1e-5));
  }
}

// The ready replicas of the cluster's one service; -1 when the list cannot be had.
inline int ready_replicas(const rank_cluster& r) {
  const auto shown = r.c.troupe({"services", "--json"});
  if (shown.exit_code != 0) return -1;
  const auto services = json::parse(shown.out);
  return services.empty() ? 0 : services[0]["ready_replicas"].get<int>();
}

struct served_model : rank_cluster {
  std::string module;  // the trained version's TorchScript, exported
  std::string service_job;

  served_model() : rank_cluster(1, 180s) {
    const auto trained = wait_until_ended(submit(train_spec));
    BOOST_TEST_REQUIRE(trained["state"] == "SUCCEEDED", trained.dump() + c.dump_logs());
    module = c.root() + "/mlp.pt";
    const auto exported = c.troupe({"model", "export", "mlp@1", module});
    BOOST_TEST_REQUIRE(exported.exit_code == 0, exported.err);
    service_job = submit(serve_spec);
    BOOST_TEST_REQUIRE(
        wait_until([&] { return ready_replicas() == 2; }, job_limit),
        c.troupe({"services", "--json"}).out + all_logs(service_job) + c.dump_logs());
  }

  int ready_replicas() const { return serve_testing::ready_replicas(*this); }

  // The id of the attempt of the service's task `index` that is RUNNING now, or "".
  std::string running_attempt(int index) const {
    const auto j = job(service_job);
    for (const auto& a : j["attempts"])
      if (a["task"] == index && a["state"] == "RUNNING") return a["id"].get<std::string>();
    return "";
  }

  json predict(const json& rows) const {
    const auto out =
        c.troupe({"predict", "mlp-service", json{{"features", rows}}.dump(), "--json"});
    BOOST_TEST_REQUIRE(out.exit_code == 0, out.err + all_logs(service_job));
    return json::parse(out.out);
  }
};

// A service of the cluster's model `mlp` that follows its production stage, once version 1 is
// there, both replicas are ready and the service answers.
struct production_service {
  rank_cluster& r;
  std::string job;
  std::string rows = json{{"features", rows_of(1, 2)}}.dump();

  // `extra`: more fields of the serve spec.
  explicit production_service(rank_cluster& cluster, const std::string& extra = "") : r(cluster) {
    promote(1);
    std::string spec = serve_spec + extra;
    spec.replace(spec.find("model: mlp"), 10, "model: mlp@production");
    job = r.submit(spec);
    BOOST_TEST_REQUIRE(wait_until(
                           [&] {
                             return ready_replicas(r) == 2 &&
                                    r.c.troupe({"predict", "mlp-service", rows}).exit_code == 0;
                           },
                           r.job_limit),
                       r.all_logs(job) + r.c.dump_logs());
  }
  void promote(int version) const {
    const auto promoted =
        r.c.troupe({"model", "promote", "mlp@" + std::to_string(version), "--stage", "production"});
    BOOST_TEST_REQUIRE(promoted.exit_code == 0, promoted.err);
  }
  int version_answering() const {
    const auto out = r.c.troupe({"predict", "mlp-service", rows, "--json"});
    BOOST_TEST_REQUIRE(out.exit_code == 0, out.err + r.all_logs(job));
    return json::parse(out.out)["model_version"].get<int>();
  }
};

// Versions 1 to `count` of `mlp`, each trained by a train job.
inline void train_versions(rank_cluster& r, int count) {
  for (int version = 1; version <= count; ++version) {
    const auto trained = r.wait_until_ended(r.submit(train_spec));
    BOOST_TEST_REQUIRE(trained["state"] == "SUCCEEDED", trained.dump() + r.c.dump_logs());
  }
}

inline constexpr const char* open_cached =
    "auth: {tokens: optional}\ncache: {entries: 100, ttl_s: 600}\n";

// The sum of the series `name` whose labels include `labels`; -1 when there is none.
inline double summed(const std::string& text, const std::string& name, const std::string& labels) {
  double sum = -1;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "{", 0) != 0 || line.find(labels) == std::string::npos) continue;
    sum = std::max(sum, 0.0) + std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

inline double cache_hits(rank_cluster& r) {
  const auto text = http_get(r.c, r.c.head().http_address(), "/metrics").body;
  return summed(text, "troupe_inference_cache_hits_total", R"(service="mlp-service")");
}

// promtool's verdict on a daemon's /metrics: "" when it accepts it, else what it says.
inline std::string promtool_problems(const rank_cluster& r, const std::string& address) {
  const auto file = r.c.root() + "/metrics.txt";
  std::ofstream(file) << http_get(r.c, address, "/metrics").body;
  auto checked = run_command({"/bin/sh", "-c", "promtool check metrics < " + file});
  return checked.exit_code == 0 ? "" : checked.out + checked.err;
}

// Asks the service over and over from its own thread until stopped; counts the answers and
// keeps every failure. Each request may take 20 s: a slow answer on a busy machine is no failure.
class continuous_client {
 public:
  explicit continuous_client(const rank_cluster& r) {
    sending_ = std::async(std::launch::async, [this, &r] {
      const auto rows = json{{"features", rows_of(1, 2)}}.dump();
      const std::vector<std::string> argv{
          binary("troupe"), "--head", r.c.endpoint(), "--credentials", r.c.admin_credentials(),
          "--timeout-ms",   "20000",  "predict",      "mlp-service",   rows};
      while (!stop_) {
        const auto out = run_command(argv);
        std::lock_guard<std::mutex> lock(mutex_);
        if (out.exit_code == 0)
          ++answered_;
        else
          failures_.push_back(out.err);
      }
    });
  }
  ~continuous_client() { stop(); }
  int answered() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return answered_;
  }
  // Waits (bounded) for `more` answers than there are now.
  bool answers(int more) const {
    const int target = answered() + more;
    return wait_until([&] { return answered() >= target; }, 30s);
  }
  // Stops sending; the failures seen.
  std::vector<std::string> stop() {
    stop_ = true;
    if (sending_.valid()) sending_.get();
    return failures_;
  }

 private:
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  int answered_ = 0;
  std::vector<std::string> failures_;
  std::future<void> sending_;
};

}  // namespace troupe::local::serve_testing
