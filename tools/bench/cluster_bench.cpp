// troupe-bench-cluster: the cluster foundation's figures, each against its raw limit where
// one exists, measured in the same run on real processes over loopback.
//
//   troupe-bench-cluster [rtt] [detect] [startup] [capacity] [flood]     (default: all)
//
//   rtt       `troupe status` request -> reply inside one client, 10,000 requests, versus a
//             raw ZeroMQ DEALER/ROUTER echo of the same frame sizes in another process
//   detect    kill -STOP a node -> the head reports it dead, 20 trials at default settings
//   startup   trouped start -> listed alive at the head; idle RSS of a node and the head
//   capacity  troupe-nodesim: 1,000, then 5,000 simulated nodes heartbeating every 200 ms at one
//             head, and how many of them the head falsely suspected
//   flood     `detect` while 1,000 simulated nodes heartbeat and one client floods the head
//             with status requests; another client's status time; the flood's rate
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "cluster/security/curve_keys.hpp"
#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"
#include "tools/local_cluster/request_flood.hpp"

namespace {

using namespace troupe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

double micros(clock_type::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

struct summary {
  double median, p99, mean, max;
};

summary summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)],
          std::accumulate(v.begin(), v.end(), 0.0) / v.size(), v.back()};
}

// A ROUTER in a child process that answers every request with `reply_size` bytes, serving
// CURVE with `server_secret` (no ZAP handler: the raw limit only pays for the encryption).
// Returns the child's pid and its endpoint.
std::pair<pid_t, std::string> start_raw_echo(size_t reply_size, const std::string& server_secret) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    zmq::context_t ctx{1};
    zmq::socket_t router(ctx, zmq::socket_type::router);
    router.set(zmq::sockopt::curve_server, 1);
    router.set(zmq::sockopt::curve_secretkey, server_secret);
    router.bind("tcp://127.0.0.1:0");
    auto endpoint = router.get(zmq::sockopt::last_endpoint);
    (void)!::write(fds[1], endpoint.data(), endpoint.size());
    ::close(fds[1]);
    std::string reply(reply_size, 'r');
    while (true) {
      zmq::message_t id, body;
      (void)router.recv(id);
      (void)router.recv(body);
      router.send(id, zmq::send_flags::sndmore);
      router.send(zmq::buffer(reply));
    }
  }
  ::close(fds[1]);
  char buf[256] = {};
  auto n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  return {pid, std::string(buf, n > 0 ? n : 0)};
}

void bench_rtt() {
  constexpr int rounds = 20, per_round = 500, warmup = 500;
  local::cluster c;
  c.start_head({"--no-worker"});
  transport::request_client client(c.endpoint(), "bench", c.admin_keys());
  auto request_size =
      msg::encode(msg::envelope{1, 1, "bench", msg::cluster_status_request{}}).size();
  auto first = client.call(msg::cluster_status_request{}, 5s);
  if (!first) throw std::runtime_error("the head did not answer");
  auto reply_size = msg::encode(*first).size();

  const auto echo_server = security::generate_key_pair(),
             echo_client = security::generate_key_pair();
  auto [echo_pid, echo_endpoint] = start_raw_echo(reply_size, echo_server.secret_key);
  struct kill_on_exit {
    pid_t pid;
    ~kill_on_exit() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } echo_guard{echo_pid};
  zmq::context_t ctx{1};
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  transport::set_client_curve(
      dealer, {echo_client.public_key, echo_client.secret_key, echo_server.public_key});
  dealer.connect(echo_endpoint);
  std::string request(request_size, 'q');

  auto troupe_once = [&] {
    auto t = clock_type::now();
    if (!client.call(msg::cluster_status_request{}, 5s))
      throw std::runtime_error("the head did not answer");
    return micros(clock_type::now() - t);
  };
  auto raw_once = [&] {
    auto t = clock_type::now();
    dealer.send(zmq::buffer(request));
    zmq::message_t reply;
    (void)dealer.recv(reply);
    return micros(clock_type::now() - t);
  };
  for (int i = 0; i < warmup; ++i) troupe_once(), raw_once();
  // Alternate rounds so that whatever else the machine does weighs on both alike.
  std::vector<double> troupe_us, raw_us;
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < per_round; ++i) troupe_us.push_back(troupe_once());
    for (int i = 0; i < per_round; ++i) raw_us.push_back(raw_once());
  }
  auto t = summarize(troupe_us), r = summarize(raw_us);
  std::printf(
      "control round trip, CURVE on both (%d requests each, alternating rounds of %d; %zu B "
      "request, "
      "%zu B reply)\n",
      rounds * per_round, per_round, request_size, reply_size);
  std::printf("  troupe status   median %7.1f us  p99 %7.1f us  mean %7.1f us\n", t.median, t.p99,
              t.mean);
  std::printf("  raw zmq echo    median %7.1f us  p99 %7.1f us  mean %7.1f us\n", r.median, r.p99,
              r.mean);
  std::printf("  ratio troupe/raw: median %.2fx  mean %.2fx   (target <= 1.5x)\n",
              t.median / r.median, t.mean / r.mean);
}

std::string state_of(transport::request_client& client, const std::string& name) {
  auto reply = client.call(msg::node_list_request{}, 2s);
  if (!reply) return "unreachable";
  if (auto* list = std::get_if<msg::node_list_reply>(&reply->body))
    for (const auto& n : list->nodes)
      if (n.name == name) return msg::to_string(n.state);
  return "missing";
}

// Stops the node `victim` until the head reports it dead, then lets it rejoin; returns the
// milliseconds to `dead`, polled every 2 ms.
double stopped_until_dead(local::cluster& c, transport::request_client& client) {
  auto t = clock_type::now();
  c.node("victim").signal(SIGSTOP);
  while (state_of(client, "victim") != "dead") {
    if (clock_type::now() - t > 10s) throw std::runtime_error("not detected in 10 s");
    std::this_thread::sleep_for(2ms);
  }
  double ms = micros(clock_type::now() - t) / 1000;
  c.node("victim").signal(SIGCONT);
  if (!local::wait_until([&] { return state_of(client, "victim") == "alive"; }, 10s))
    throw std::runtime_error("the node did not come back");
  return ms;
}

void bench_detect() {
  constexpr int trials = 20;
  local::cluster c;
  c.start_head({"--no-worker"});
  c.start_node("victim");
  transport::request_client client(c.endpoint(), "bench", c.admin_keys());
  if (!local::wait_until([&] { return state_of(client, "victim") == "alive"; }, 15s))
    throw std::runtime_error("the node did not register:\n" + c.dump_logs());
  std::vector<double> ms;
  for (int i = 0; i < trials; ++i) {
    // Stop at a random phase of the heartbeat period, after the node has settled.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + std::rand() % 200));
    ms.push_back(stopped_until_dead(c, client));
  }
  auto s = summarize(ms);
  std::printf("failure detection, kill -STOP -> dead (%d trials, default settings)\n", trials);
  std::printf(
      "  median %.0f ms  max %.0f ms  mean %.0f ms   (target: median <= 1000, max <= 1500)\n",
      s.median, s.max, s.mean);
}

void bench_startup() {
  constexpr int starts = 5;
  local::cluster c;
  auto& head = c.start_head({"--no-worker"});
  transport::request_client client(c.endpoint(), "bench", c.admin_keys());
  std::vector<double> ms;
  for (int i = 0; i < starts; ++i) {
    auto name = "start-" + std::to_string(i);
    auto t = clock_type::now();
    c.start_node(name);
    while (state_of(client, name) != "alive") {
      if (clock_type::now() - t > 10s) throw std::runtime_error("node did not register");
      std::this_thread::sleep_for(1ms);
    }
    ms.push_back(micros(clock_type::now() - t) / 1000);
  }
  std::this_thread::sleep_for(3s);
  auto s = summarize(ms);
  std::printf("trouped start -> registered alive (%d starts): median %.0f ms, max %.0f ms\n",
              starts, s.median, s.max);
  std::printf("idle RSS after 3 s: node %.1f MiB, head (no worker, %d nodes) %.1f MiB\n",
              local::sample_process(c.node("start-0").pid()).rss_kb / 1024.0, starts,
              local::sample_process(head.pid()).rss_kb / 1024.0);
}

// Simulated nodes the head's log shows entering `state` (each counted once).
size_t simulated_nodes_entering(const std::string& log, const std::string& state) {
  std::set<std::string> names;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    auto at = line.find("node sim-");
    if (at == std::string::npos || line.find("-> " + state) == std::string::npos) continue;
    names.insert(line.substr(at + 5, line.find(' ', at + 5) - at - 5));
  }
  return names.size();
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void bench_capacity() {
  for (int nodes : {1000, 5000}) {
    local::cluster c;
    auto& head = c.start_head({"--no-worker"});
    std::printf("head capacity: troupe-nodesim, %d nodes, heartbeat every 200 ms, 20 s\n", nodes);
    std::fflush(stdout);
    auto result = local::run_command(
        {local::binary("troupe-nodesim"), "--head", c.endpoint(), "--token", c.join_token(),
         "--credentials", c.admin_credentials(), "--nodes", std::to_string(nodes), "--duration-s",
         "20", "--head-pid", std::to_string(head.pid())},
        200s);  // registration may take up to 120 s (troupe-nodesim), then 21 s of heartbeats
    std::printf("%s%s", result.out.c_str(), result.err.c_str());
    auto log = head.log();
    std::printf("  false alarms (registration burst included): %zu nodes suspect, %zu dead\n",
                simulated_nodes_entering(log, "suspect"), simulated_nodes_entering(log, "dead"));
    std::printf("  episodes of lateness shared by many nodes, forgiven by the head: %zu\n",
                occurrences(log, "at once: taking it for the head's own trouble"));
  }
}

// The flood: 1,000 simulated nodes and 3 real ones heartbeating while one client
// floods the head with status requests from 4 sockets; a real node is stopped, as in
// `detect`, and another client asks for the status once per trial.
void bench_flood() {
  constexpr int trials = 10, simulated = 1000, flood_sockets = 4;
  local::cluster c;
  auto& head = c.start_head({"--no-worker"});
  for (auto name : {"victim", "node-1", "node-2"}) c.start_node(name);
  transport::request_client client(c.endpoint(), "bench", c.admin_keys());
  auto alive_nodes = [&] {
    auto reply = client.call(msg::node_list_request{}, 5s);
    size_t alive = 0;
    if (reply)
      if (auto* list = std::get_if<msg::node_list_reply>(&reply->body))
        for (const auto& n : list->nodes) alive += n.state == msg::node_state::alive;
    return alive;
  };
  local::command_result sim_result;
  std::thread sim([&] {
    sim_result =
        local::run_command({local::binary("troupe-nodesim"), "--head", c.endpoint(), "--token",
                            c.join_token(), "--credentials", c.admin_credentials(), "--nodes",
                            std::to_string(simulated), "--duration-s", "40"},
                           120s);
  });
  struct join_on_exit {
    std::thread& t;
    ~join_on_exit() { t.join(); }
  } sim_guard{sim};
  if (!local::wait_until([&] { return alive_nodes() == simulated + 3; }, 60s))
    throw std::runtime_error("the nodes did not all register:\n" + c.dump_logs());

  std::vector<double> detect_ms, status_ms;
  local::request_flood::counts flooded;
  double flood_seconds = 0;
  {
    local::request_flood flood(c.endpoint(), msg::cluster_status_request{}, flood_sockets,
                               c.admin_keys());
    const auto flood_start = clock_type::now();
    for (int i = 0; i < trials; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1000 + std::rand() % 200));
      auto asked = clock_type::now();
      if (!client.call(msg::cluster_status_request{}, 5s))
        throw std::runtime_error("another client got no status during the flood");
      status_ms.push_back(micros(clock_type::now() - asked) / 1000);
      detect_ms.push_back(stopped_until_dead(c, client));
    }
    flooded = flood.so_far();
    flood_seconds = std::chrono::duration<double>(clock_type::now() - flood_start).count();
  }
  auto d = summarize(detect_ms), s = summarize(status_ms);
  std::printf(
      "failure detection during a request flood (%d trials; %d simulated + 3 real nodes; "
      "status requests from %d sockets)\n",
      trials, simulated, flood_sockets);
  std::printf("  kill -STOP -> dead: median %.0f ms  max %.0f ms   (target: max <= 1500)\n",
              d.median, d.max);
  std::printf("  another client's status: median %.1f ms  max %.1f ms\n", s.median, s.max);
  std::printf("  flood: %.0f requests/s sent, %.0f answers/s (%.0f%% of them overloaded)\n",
              flooded.sent / flood_seconds, flooded.answered / flood_seconds,
              flooded.answered ? 100.0 * flooded.overloaded / flooded.answered : 0.0);
  std::printf("  false alarms: %zu simulated nodes suspect\n",
              simulated_nodes_entering(head.log(), "suspect"));
}

}  // namespace

int main(int argc, char** argv) {
  std::set<std::string> chosen(argv + 1, argv + argc);
  auto want = [&](const char* name) { return chosen.empty() || chosen.count(name); };
  try {
    if (want("rtt")) bench_rtt();
    if (want("detect")) bench_detect();
    if (want("startup")) bench_startup();
    if (want("capacity")) bench_capacity();
    if (want("flood")) bench_flood();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-bench-cluster: %s\n", e.what());
    return 1;
  }
  return 0;
}
