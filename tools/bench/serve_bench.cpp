// troupe-bench-serve: a TorchScript MLP 52→256→256→10 with softmax, made by PyTorch
// (torch.jit.script) and imported with `troupe model register`, served by a `serve` job of 2
// replicas (one CPU each, batches of up to 64 rows) on a local cluster (a head with no worker of
// its own and two nodes of one CPU), and the same file behind FastAPI + uvicorn (2 workers, one
// torch thread each: fastapi_peer.py), each loaded by wrk on this machine after a warm-up.
//
//   troupe-bench-serve [--seconds N] [--python PATH]      (default 10 s per load)
//
// Printed, each beside its peer measured in the same run:
//   1 row per request     wrk -t2 -c64: requests/s and p99, Troupe's head against FastAPI's
//   100 rows per request  the same as rows/s
//   overhead              single-row latency p50 with one connection (wrk -t1 -c1) against the
//                         bare forward pass of one row in this process (libtorch, one thread)
//                         plus one loopback HTTP round trip to the head (GET /v2/health/live)
#include <signal.h>
#include <sys/wait.h>

#include <torch/script.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/bench/serving_mlp.hpp"
#include "tools/bench/train_cluster.hpp"
#include "tools/bench/training_workload.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace {

using namespace troupe;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int features = 52;
constexpr const char* service = "txn-mlp";

struct options {
  int seconds = 10;
  std::string python = "/usr/bin/python3";
};

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// {"features": [..]} of one row, or {"features": [[..], ..]} of `rows` rows.
std::string body_of(int rows) {
  std::mt19937 random(7);
  std::normal_distribution<float> value(0, 1);
  json row_list = json::array();
  for (int r = 0; r < rows; ++r) {
    json row = json::array();
    for (int f = 0; f < features; ++f) row.push_back(value(random));
    row_list.push_back(row);
  }
  return json{{"features", rows == 1 ? row_list[0] : row_list}}.dump();
}

struct load_result {
  double requests_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  long failed = 0;  // non-2xx answers and socket errors
};

double to_ms(double value, const std::string& unit) {
  if (unit == "us") return value / 1000;
  if (unit == "s") return value * 1000;
  return value;
}

// wrk's --latency report: "Requests/sec: N", the distribution's 50% and 99% lines, errors.
load_result parse_wrk(const std::string& out) {
  load_result r;
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")))
    throw std::runtime_error("wrk printed no Requests/sec:\n" + out);
  r.requests_per_s = std::stod(m[1]);
  const std::regex percentile(R"(\s(50|99)%\s+([0-9.]+)(us|ms|s)\b)");
  for (std::sregex_iterator it(out.begin(), out.end(), percentile), end; it != end; ++it)
    ((*it)[1] == "50" ? r.p50_ms : r.p99_ms) = to_ms(std::stod((*it)[2]), (*it)[3]);
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))")))
    r.failed += std::stol(m[1]);
  if (std::regex_search(
          out, m,
          std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))")))
    for (int i = 1; i <= 4; ++i) r.failed += std::stol(m[i]);
  return r;
}

// One wrk load of `url`: POST `body` (GET when empty) with the bearer `token` (when not empty).
load_result run_wrk(const std::string& dir, const std::string& url, const std::string& body,
                    const std::string& token, int threads, int connections, int seconds) {
  std::string script = "wrk.headers[\"Content-Type\"] = \"application/json\"\n";
  if (!token.empty()) script += "wrk.headers[\"Authorization\"] = \"Bearer " + token + "\"\n";
  if (!body.empty()) {
    script += "wrk.method = \"POST\"\nlocal f = io.open(\"" + write_file(dir + "/body.json", body) +
              "\", \"rb\")\nwrk.body = f:read(\"*a\")\nf:close()\n";
  }
  write_file(dir + "/load.lua", script);
  auto run = local::run_command(
      {"/usr/bin/wrk", "-t" + std::to_string(threads), "-c" + std::to_string(connections),
       "-d" + std::to_string(seconds) + "s", "--latency", "-s", dir + "/load.lua", url},
      std::chrono::seconds(seconds + 30));
  if (run.exit_code != 0) throw std::runtime_error("wrk failed: " + run.err + run.out);
  return parse_wrk(run.out);
}

// A process started for the benchmark and stopped (SIGTERM, then SIGKILL) when it ends.
class peer_process {
 public:
  explicit peer_process(const std::vector<std::string>& argv, const std::string& log) {
    std::fflush(nullptr);  // the child's freopen would write what is buffered a second time
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("cannot start " + argv[0]);
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      std::freopen(log.c_str(), "a", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~peer_process() {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  peer_process(const peer_process&) = delete;
  peer_process& operator=(const peer_process&) = delete;

 private:
  pid_t pid_ = -1;
};

// Polls `url` with curl until it answers 200 (GET, with the bearer token when given).
void wait_until_ok(const std::string& url, const std::string& token, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::vector<std::string> curl{"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"};
  if (!token.empty()) curl.insert(curl.end(), {"-H", "Authorization: Bearer " + token});
  curl.push_back(url);
  while (local::run_command(curl, 5s).out != "200") {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(url + " did not answer 200 within " + std::to_string(limit.count()) +
                               " s");
    std::this_thread::sleep_for(200ms);
  }
}

// The median time of one forward pass of one row, in this process, one torch thread.
double bare_forward_p50_ms(const std::string& model_file) {
  auto module = torch::jit::load(model_file);
  module.eval();
  torch::NoGradGuard no_grad;
  const auto row = torch::randn({1, features});
  std::vector<double> ms;
  for (int i = 0; i < 3000; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto out = module.forward({row}).toTensor();
    (void)out.data_ptr<float>();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

struct figures {
  load_result one_row, hundred_rows, single_connection, round_trip;
};

std::string describe(const load_result& r, int rows) {
  char text[160];
  std::snprintf(text, sizeof text, "%.0f %s/s, p50 %.2f ms, p99 %.2f ms%s", r.requests_per_s * rows,
                rows == 1 ? "req" : "rows", r.p50_ms, r.p99_ms,
                r.failed ? (" (" + std::to_string(r.failed) + " FAILED)").c_str() : "");
  return text;
}

figures measure_fastapi(const options& o, const std::string& dir, const std::string& model) {
  if (local::run_command({o.python, "-c", "import fastapi, uvicorn"}, 60s).exit_code != 0)
    throw std::runtime_error(o.python + " cannot import fastapi and uvicorn, the peer's server " +
                             "(apt install python3-fastapi uvicorn)");
  ::setenv("TROUPE_PEER_MODEL", model.c_str(), 1);
  const auto port = std::to_string(18000 + ::getpid() % 2000);
  const auto app_dir = std::filesystem::path(local::binary("fastapi_peer.py")).parent_path();
  peer_process uvicorn(
      {o.python, "-m", "uvicorn", "--app-dir", app_dir.string(), "fastapi_peer:app", "--workers",
       "2", "--host", "127.0.0.1", "--port", port, "--log-level", "warning"},
      dir + "/uvicorn.log");
  const auto base = "http://127.0.0.1:" + port;
  wait_until_ok(base + "/docs", "", 120s);
  const auto url = base + "/v1/models/" + service + "/predict";
  run_wrk(dir, url, body_of(1), "", 2, 64, 3);  // warm-up
  figures f;
  f.one_row = run_wrk(dir, url, body_of(1), "", 2, 64, o.seconds);
  f.hundred_rows = run_wrk(dir, url, body_of(100), "", 2, 64, o.seconds);
  f.single_connection = run_wrk(dir, url, body_of(1), "", 1, 1, 5);
  return f;
}

figures measure_troupe(const options& o, const std::string& dir, const std::string& model) {
  bench::train_cluster cluster(2);
  auto& c = cluster.cluster();
  auto registered =
      c.troupe({"model", "register", service, model, "--input-features", std::to_string(features),
                "--classes", "c0,c1,c2,c3,c4,c5,c6,c7,c8,c9"});
  if (registered.exit_code != 0) throw std::runtime_error("model register: " + registered.err);
  auto token_made = c.troupe({"--json", "token", "create", "--name", "bench", "--role", "predict",
                              "--rate-limit-per-s", "1000000", "--burst", "1000000"});
  if (token_made.exit_code != 0) throw std::runtime_error("token create: " + token_made.err);
  const auto token = json::parse(token_made.out).at("token").get<std::string>();
  const auto job = cluster.submit({{"name", service},
                                   {"kind", "serve"},
                                   {"model", service},
                                   {"replicas", 2},
                                   {"resources", {{"cpus", 1}}},
                                   {"batching", {{"max_batch", 64}, {"max_delay_ms", 2}}}});
  const auto base = "http://" + c.head().http_address();
  try {
    wait_until_ok(base + "/v2/models/" + std::string(service) + "/ready", token, 120s);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "\n" + c.dump_logs());
  }
  const auto url = base + "/v1/models/" + service + "/predict";
  run_wrk(dir, url, body_of(1), token, 2, 64, 3);  // warm-up
  figures f;
  f.one_row = run_wrk(dir, url, body_of(1), token, 2, 64, o.seconds);
  f.hundred_rows = run_wrk(dir, url, body_of(100), token, 2, 64, o.seconds);
  f.single_connection = run_wrk(dir, url, body_of(1), token, 1, 1, 5);
  f.round_trip = run_wrk(dir, base + "/v2/health/live", "", "", 1, 1, 5);
  std::printf("serve job %s: 2 replicas ready\n", job.c_str());
  return f;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      o.seconds = std::stoi(argv[++i]);
    } else if (a == "--python" && i + 1 < argc) {
      o.python = argv[++i];
    } else {
      throw std::invalid_argument("usage: troupe-bench-serve [--seconds N] [--python PATH]");
    }
  }
  if (o.seconds < 1 || o.seconds > 600) throw std::invalid_argument("--seconds: 1 to 600");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::run_with_the_tasks_blas_settings(argv);
    const auto o = parse(argc, argv);
    torch::set_num_threads(1);
    char pattern[] = "/tmp/troupe-bench-serve-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    const std::string dir = pattern;
    const auto model = dir + "/mlp.pt";
    bench::make_serving_mlp(o.python, model);
    std::printf(
        "troupe-bench-serve: MLP 52-256-256-10 softmax (TorchScript by PyTorch), %d s per "
        "load, load average %s\n",
        o.seconds, bench::load_average().c_str());
    const auto forward_ms = bare_forward_p50_ms(model);
    const auto peer = measure_fastapi(o, dir, model);
    std::printf("load average %s after FastAPI\n", bench::load_average().c_str());
    const auto ours = measure_troupe(o, dir, model);
    std::printf("load average %s after Troupe\n", bench::load_average().c_str());

    std::printf("\n1 row per request (wrk -t2 -c64 -d%ds):\n", o.seconds);
    std::printf("  troupe   %s\n  fastapi  %s\n", describe(ours.one_row, 1).c_str(),
                describe(peer.one_row, 1).c_str());
    std::printf("  ratio %.2f (target >= 5, p99 <= 2 ms)\n",
                ours.one_row.requests_per_s / peer.one_row.requests_per_s);
    std::printf("100 rows per request (wrk -t2 -c64 -d%ds):\n", o.seconds);
    std::printf("  troupe   %s\n  fastapi  %s\n", describe(ours.hundred_rows, 100).c_str(),
                describe(peer.hundred_rows, 100).c_str());
    std::printf("  ratio %.2f (target >= 10)\n",
                ours.hundred_rows.requests_per_s / peer.hundred_rows.requests_per_s);
    const auto limit = forward_ms + ours.round_trip.p50_ms;
    std::printf("overhead, one connection (wrk -t1 -c1 -d5s):\n");
    std::printf(
        "  troupe p50 %.3f ms; bare forward p50 %.3f ms + loopback HTTP round trip p50 "
        "%.3f ms = %.3f ms; ratio %.2f (target <= 1.5); fastapi p50 %.3f ms\n",
        ours.single_connection.p50_ms, forward_ms, ours.round_trip.p50_ms, limit,
        ours.single_connection.p50_ms / limit, peer.single_connection.p50_ms);
    std::printf("batch predict jobs: troupe-bench-predict\n");
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-bench-serve: %s\n", e.what());
    return 1;
  }
}
