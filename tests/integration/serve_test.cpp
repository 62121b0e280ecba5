// Serve jobs end to end with real daemons on loopback: a head without a node agent and two
// one-CPU nodes. A small MLP is trained by a train job (so the registry has a version and its
// signature), served by a serve job of two replicas (one troupe-replica per node), and asked
// over the protocol with `troupe predict`: each answer equals the model's own forward pass
// (TorchScript loaded by Debian's python3-torch, softmax of its logits), row for row, also for
// concurrent requests that the replicas' batchers join. A promotion of another version to the
// stage the service follows switches it over while requests keep coming, none of them failing.
// A replica's process killed is replaced alone while the other answers every request. A reload
// over HTTP has the replicas load what the model reference names now before it answers.
// A service with `auth: {tokens: optional}` and a `cache` answers curl without a token, repeats
// from the head's cache (counted on /metrics, never across a promotion), and the replicas'
// figures (rows per forward pass, queue depth) reach the nodes' and the head's /metrics, which
// promtool accepts. Nodes given `--serve-ports` have their replicas listen within that range.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/http_calls.hpp"
#include "tests/integration/rank_cluster.hpp"

using namespace troupe::local;
using nlohmann::json;
using troupe::test::http_call;
using troupe::test::http_get;

namespace {

constexpr const char* train_spec = R"(name: mlp
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

constexpr const char* serve_spec = R"(name: mlp-service
kind: serve
model: mlp
replicas: 2
resources: {cpus: 1}
batching: {max_batch: 64, max_delay_ms: 5}
)";

bool python_torch() {
  return run_command({"/usr/bin/python3", "-c", "import torch"}, 60s).exit_code == 0;
}

// Rows of 4 features, distinct per `seed`.
json rows_of(int seed, int count) {
  auto rows = json::array();
  for (int r = 0; r < count; ++r)
    rows.push_back({0.1 * seed + r, -0.5 * r, 0.25 * seed, 1.0 - 0.1 * r});
  return rows;
}

// The module's own answer to `rows`: the softmax of its logits, per row.
json forward_pass(const std::string& module, const json& rows) {
  const auto script =
      "import json, sys, torch\n"
      "m = torch.jit.load(sys.argv[1])\n"
      "x = torch.tensor(json.loads(sys.argv[2]), dtype=torch.float32)\n"
      "print(json.dumps(torch.softmax(m(x), dim=1).tolist()))\n";
  const auto out = run_command({"/usr/bin/python3", "-c", script, module, rows.dump()}, 60s);
  BOOST_TEST_REQUIRE(out.exit_code == 0, out.err);
  return json::parse(out.out);
}

void check_rows(const json& got, const json& expected) {
  BOOST_TEST_REQUIRE(got.size() == expected.size(), got.dump() << " vs " << expected.dump());
  for (size_t r = 0; r < got.size(); ++r) {
    BOOST_TEST_REQUIRE(got[r].size() == expected[r].size(), "row " << r);
    for (size_t i = 0; i < got[r].size(); ++i)
      BOOST_TEST(got[r][i].get<double>() == expected[r][i].get<double>(),
                 boost::test_tools::tolerance(1e-5));
  }
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

  int ready_replicas() const {
    const auto shown = c.troupe({"services", "--json"});
    if (shown.exit_code != 0) return -1;
    const auto services = json::parse(shown.out);
    return services.empty() ? 0 : services[0]["ready_replicas"].get<int>();
  }

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
// there and the service answers.
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
                             return r.c.troupe({"predict", "mlp-service", rows}).exit_code == 0;
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
void train_versions(rank_cluster& r, int count) {
  for (int version = 1; version <= count; ++version) {
    const auto trained = r.wait_until_ended(r.submit(train_spec));
    BOOST_TEST_REQUIRE(trained["state"] == "SUCCEEDED", trained.dump() + r.c.dump_logs());
  }
}

constexpr const char* open_cached = "auth: {tokens: optional}\ncache: {entries: 100, ttl_s: 600}\n";

// The sum of the series `name` whose labels include `labels`; -1 when there is none.
double summed(const std::string& text, const std::string& name, const std::string& labels) {
  double sum = -1;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "{", 0) != 0 || line.find(labels) == std::string::npos) continue;
    sum = std::max(sum, 0.0) + std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

double cache_hits(rank_cluster& r) {
  const auto text = http_get(r.c, r.c.head().http_address(), "/metrics").body;
  return summed(text, "troupe_inference_cache_hits_total", R"(service="mlp-service")");
}

// promtool's verdict on a daemon's /metrics: "" when it accepts it, else what it says.
std::string promtool_problems(const rank_cluster& r, const std::string& address) {
  const auto file = r.c.root() + "/metrics.txt";
  std::ofstream(file) << http_get(r.c, address, "/metrics").body;
  auto checked = run_command({"/bin/sh", "-c", "promtool check metrics < " + file});
  return checked.exit_code == 0 ? "" : checked.out + checked.err;
}

}  // namespace

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

BOOST_AUTO_TEST_CASE(a_promotion_under_load_switches_the_service_over_without_a_failed_request) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  rank_cluster r(1, 180s);
  train_versions(r, 2);
  production_service service(r);
  BOOST_TEST(service.version_answering() == 1);
  service.promote(2);
  // Every request answers while the replicas load version 2; then only version 2 answers.
  BOOST_TEST_REQUIRE(wait_until([&] { return service.version_answering() == 2; }, r.job_limit),
                     r.all_logs(service.job));
  for (int i = 0; i < 10; ++i) BOOST_TEST(service.version_answering() == 2);
}

BOOST_AUTO_TEST_CASE(a_promoted_version_that_cannot_load_leaves_the_old_one_serving) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  rank_cluster r(1, 180s);
  train_versions(r, 1);
  // Version 2: a file that is no TorchScript archive, imported as the same model.
  const auto broken = r.c.root() + "/broken.pt";
  std::ofstream(broken) << "not a TorchScript archive\n";
  const auto imported = r.c.troupe(
      {"model", "register", "mlp", broken, "--input-features", "4", "--outputs", "logits"});
  BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.err);
  production_service service(r);
  service.promote(2);
  // The replicas try version 2, fail, and report why; version 1 answers all along.
  auto problem_of_2 = [&] {
    const auto shown = r.c.troupe({"services", "--json"});
    if (shown.exit_code != 0) return std::string();
    for (const auto& s : json::parse(shown.out))
      for (const auto& v : s["versions"])
        if (v["version"] == 2) return v["problem"].get<std::string>();
    return std::string();
  };
  BOOST_TEST_REQUIRE(wait_until([&] { return !problem_of_2().empty(); }, r.job_limit),
                     r.c.troupe({"services", "--json"}).out + r.all_logs(service.job));
  for (int i = 0; i < 10; ++i) BOOST_TEST(service.version_answering() == 1);
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

BOOST_AUTO_TEST_CASE(a_reload_answers_once_the_replicas_serve_the_version_registered_before_it) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  served_model s;  // follows the latest version of mlp, 1 for now
  const auto made = s.c.troupe({"--json", "token", "create", "--name", "ops", "--role", "manage"});
  BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
  const auto token = json::parse(made.out).at("token").get<std::string>();
  const auto reload = [&] {
    return http_call(s.c, "POST", s.c.head().http_address(), "/v1/models/mlp-service/reload",
                     token);
  };
  const auto register_version = [&](const std::string& file) {
    const auto imported = s.c.troupe(
        {"model", "register", "mlp", file, "--input-features", "4", "--outputs", "logits"});
    BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.err);
  };
  const auto rows = rows_of(2, 3);
  BOOST_TEST(s.predict(rows)["model_version"] == 1);
  register_version(s.module);  // version 2: the same module, imported
  const auto reloaded = reload();
  BOOST_TEST_REQUIRE(reloaded.status == 200, reloaded.body);
  const auto answer = s.predict(rows);
  BOOST_TEST(answer["model_version"] == 2, answer.dump());
  check_rows(answer["outputs"], forward_pass(s.module, rows));
  // Version 3 cannot load: the reload says so, and version 2 answers on.
  const auto broken = s.c.root() + "/broken.pt";
  std::ofstream(broken) << "not a TorchScript archive\n";
  register_version(broken);
  const auto refused = reload();
  BOOST_TEST(refused.status == 409, refused.body);
  BOOST_TEST(refused.body.find("version 3: ") != std::string::npos, refused.body);
  BOOST_TEST(s.predict(rows)["model_version"] == 2);
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
  const auto job = r.submit(serve_spec);
  const auto rows = json{{"features", rows_of(1, 2)}}.dump();
  BOOST_TEST_REQUIRE(wait_until(
                         [&] {
                           return r.c.troupe({"predict", "mlp-service", rows}).exit_code == 0;
                         },
                         r.job_limit),
                     r.all_logs(job) + r.c.dump_logs());
  std::set<int> ports;
  for (int task = 0; task < 2; ++task) {
    const auto log = r.logs(job, task);
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

BOOST_AUTO_TEST_CASE(a_cached_service_answers_from_the_promoted_version_once_that_serves) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  rank_cluster r(1, 180s);
  train_versions(r, 2);
  production_service service(r, open_cached);
  BOOST_TEST(service.version_answering() == 1);
  BOOST_TEST(service.version_answering() == 1);
  BOOST_TEST(cache_hits(r) >= 1);  // the same rows, from the cache
  service.promote(2);
  BOOST_TEST_REQUIRE(wait_until([&] { return service.version_answering() == 2; }, r.job_limit),
                     r.all_logs(service.job));
  for (int i = 0; i < 5; ++i) BOOST_TEST(service.version_answering() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
