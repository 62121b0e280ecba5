// troupe-bench-http: the head's HTTP inference front end (cluster/http + cluster/inference_http:
// the token check, JSON in and out, metrics) against FastAPI + uvicorn (http_peer.py), both over
// a predictor that answers at once, under wrk -t2 -cC -dDs --latency. Two workloads: 1 row of 52
// features per request (v1 predict), 100 rows per request (v2 infer). Prints requests/s, rows/s
// and p99 of each, and the ratios. What a served model's forward pass costs is not in it.
//   troupe-bench-http [--seconds S] [--connections C]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cluster/http/server.hpp"
#include "cluster/inference_http/inference_routes.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;

namespace {

const std::string secret = "troupe_" + std::string(64, 'b');

// Answers every row with 10 fixed probabilities, at once.
class constant_predictor final : public inference::predictor {
 public:
  void predict(inference::prediction_request q,
               std::function<void(inference::prediction_result)> done) override {
    inference::prediction_result r;
    r.model_name = q.service;
    r.model_version = 1;
    r.rows = static_cast<uint32_t>(q.features.size() / q.feature_count);
    r.output_count = 10;
    r.outputs.assign(size_t{r.rows} * 10, 0.1f);
    r.signature = {q.feature_count, inference::output_kind::probabilities, {}};
    done(std::move(r));
  }
  void services(std::string,
                std::function<void(std::vector<inference::service_status>)> done) override {
    done({});
  }
  void reload(std::string, std::string,
              std::function<void(std::optional<msg::error>)> done) override {
    done(std::nullopt);
  }
  std::optional<inference::service_access> access(const std::string&,
                                                  const std::string&) const override {
    return inference::service_access{"", {}};
  }
};

struct figures {
  double requests_per_s = 0;
  double p99_ms = 0;
};

std::string rows_json(int rows, bool nested) {
  std::string row = "[";
  for (int i = 0; i < 52; ++i) row += (i ? "," : "") + std::to_string(0.01 * i).substr(0, 4);
  row += "]";
  if (!nested) return row;
  std::string out = "[";
  for (int i = 0; i < rows; ++i) out += (i ? "," : "") + row;
  return out + "]";
}

figures run_wrk(const std::string& url, const std::string& body, int seconds, int connections) {
  const auto script = "/tmp/troupe-bench-http-" + std::to_string(::getpid()) + ".lua";
  std::ofstream(script) << "wrk.method = \"POST\"\nwrk.body = [==[" << body
                        << "]==]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
                        << "wrk.headers[\"Authorization\"] = \"Bearer " << secret << "\"\n";
  auto r =
      local::run_command({"/usr/bin/wrk", "-t2", "-c" + std::to_string(connections),
                          "-d" + std::to_string(seconds) + "s", "--latency", "-s", script, url},
                         std::chrono::seconds(seconds + 30));
  std::remove(script.c_str());
  figures f;
  std::smatch m;
  if (std::regex_search(r.out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")))
    f.requests_per_s = std::stod(m[1]);
  if (std::regex_search(r.out, m, std::regex(R"(99%\s+([0-9.]+)(us|ms|s))"))) {
    f.p99_ms = std::stod(m[1]) * (m[2] == "us" ? 0.001 : m[2] == "s" ? 1000 : 1);
  }
  if (r.out.find("Non-2xx") != std::string::npos || f.requests_per_s == 0)
    std::fprintf(stderr, "wrk: %s%s\n", r.out.c_str(), r.err.c_str());
  return f;
}

uint16_t free_port() {
  http::server probe({}, {});
  return probe.port();
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 10, connections = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--connections")) connections = std::atoi(argv[i + 1]);
  }
  constant_predictor models;
  auto tokens = std::make_shared<security::app_token_registry>();
  store::app_token_record t;
  t.name = "bench";
  t.role = "predict";
  t.secret_sha256 = security::app_token_digest(secret);
  tokens->put(t, security::bucket_clock::now());
  auto registry = std::make_shared<prometheus::Registry>();
  http::router routes;
  inference_http::add_inference_routes(
      routes, {&models, tokens, std::make_shared<inference_http::inference_metrics>(*registry)});
  http::server server({}, std::move(routes));
  server.start();

  const auto peer_port = free_port();
  const auto peer_script = local::binary("http_peer.py");
  pid_t peer = ::fork();
  if (peer == 0) {
    ::execl("/usr/bin/python3", "python3", peer_script.c_str(), std::to_string(peer_port).c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto peer_url = "127.0.0.1:" + std::to_string(peer_port);
  local::wait_until(
      [&] {
        return local::run_command({"/usr/bin/curl", "-s", "-o", "/dev/null", "http://" + peer_url})
                   .exit_code == 0;
      },
      std::chrono::seconds(30));

  const auto one_row = "{\"features\": " + rows_json(1, false) + "}";
  const auto hundred =
      "{\"inputs\": [{\"name\": \"x\", \"shape\": [100, 52], \"datatype\": "
      "\"FP32\", \"data\": " +
      rows_json(100, true) + "}]}";
  const auto troupe = "http://127.0.0.1:" + std::to_string(server.port());
  std::printf("wrk -t2 -c%d -d%ds --latency, a predictor that answers at once\n", connections,
              seconds);
  std::printf("%-28s %12s %12s %10s\n", "workload", "requests/s", "rows/s", "p99 ms");
  struct workload {
    const char* name;
    std::string path, body;
    int rows;
  } workloads[] = {{"1 row, v1 predict", "/v1/models/m/predict", one_row, 1},
                   {"100 rows, v2 infer", "/v2/models/m/infer", hundred, 100}};
  for (const auto& w : workloads) {
    run_wrk(troupe + w.path, w.body, 1, connections);  // warm-up
    const auto ours = run_wrk(troupe + w.path, w.body, seconds, connections);
    run_wrk("http://" + peer_url + w.path, w.body, 1, connections);
    const auto peer_figures = run_wrk("http://" + peer_url + w.path, w.body, seconds, connections);
    std::printf("%-28s %12.0f %12.0f %10.2f\n", (std::string("troupe, ") + w.name).c_str(),
                ours.requests_per_s, ours.requests_per_s * w.rows, ours.p99_ms);
    std::printf("%-28s %12.0f %12.0f %10.2f\n", (std::string("fastapi, ") + w.name).c_str(),
                peer_figures.requests_per_s, peer_figures.requests_per_s * w.rows,
                peer_figures.p99_ms);
    if (peer_figures.requests_per_s > 0)
      std::printf("  ratio %.1fx requests/s\n", ours.requests_per_s / peer_figures.requests_per_s);
  }
  ::kill(peer, SIGTERM);
  ::waitpid(peer, nullptr, 0);
  return 0;
}
