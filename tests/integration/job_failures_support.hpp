// What the job failure tests share (job_failures_test.cpp, job_head_failures_test.cpp): a
// cluster of a head and two one-CPU nodes whose tasks talk to the test through files, and a node
// played by the test over the protocol.
//
// Tasks write their pid (`$$`) to <attempt id>.pid in a directory of the cluster's own and wait
// for a file named `go` before they end. Every task carries the cluster's directory in its
// environment, so that whatever a failing test leaves running is found and killed afterwards.
#pragma once

#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace troupe::local::failure_testing {

using nlohmann::json;

inline constexpr const char* marker_variable = "TROUPE_FAILURE_TEST_CLUSTER";

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `spec` (YAML) into the cluster's root as NAME.yaml and submits it with the CLI; returns
// the job id.
inline std::string submit_spec(const cluster& c, const std::string& name, const std::string& spec) {
  const auto file = c.root() + "/" + name + ".yaml";
  std::ofstream(file) << spec;
  auto result = c.troupe({"submit", "--json", file});
  BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
  return json::parse(result.out)["id"].get<std::string>();
}

// A head without a node agent, and node-1 and node-2 with one CPU each: one task at a time on
// each, so a second job or task goes to the other node.
struct two_nodes {
  cluster c;
  std::string dir = c.root() + "/tasks-io";

  two_nodes() {
    std::filesystem::create_directories(dir);
    c.start_head({"--no-worker"});
    c.start_node("node-1", {"--cpus", "1"});
    c.start_node("node-2", {"--cpus", "1"});
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(2), c.dump_logs());
  }
  ~two_nodes() {
    for (pid_t pid : processes_with(marker())) ::kill(pid, SIGKILL);
  }

  std::string marker() const { return std::string(marker_variable) + "=" + c.root(); }

  // Submits a spec (YAML, without `env`); returns the job id.
  std::string submit(const std::string& spec) {
    return submit_spec(c, "spec-" + std::to_string(++specs),
                       spec + "\nenv: {" + marker_variable + ": \"" + c.root() + "\"}\n");
  }
  // A one-task job that writes its pid and waits for `go`, retried once at once.
  std::string submit_waiting_job(const std::string& name, const std::string& then = "exit 0") {
    return submit("name: " + name + "\nkind: command\nretries: {max: 1, backoff_s: 0}\n" +
                  "shell: \"" + pid_and_wait() + "; " + then + "\"");
  }
  // The shell line that writes the task's pid and waits for `go`.
  std::string pid_and_wait() const {
    return "echo $$ > " + dir + "/$TROUPE_ATTEMPT_ID.pid; while [ ! -f " + dir +
           "/go ]; do sleep 0.05; done";
  }
  void go() const { std::ofstream(dir + "/go") << "go\n"; }

  // `troupe job ID --json`, or null when the head did not answer.
  json job(const std::string& id) const {
    auto result = c.troupe({"job", id, "--json"});
    return result.exit_code == 0 ? json::parse(result.out) : json();
  }
  bool wait_for_job(const std::string& id, const std::function<bool(const json&)>& holds,
                    std::chrono::milliseconds limit = 30s) const {
    return wait_until(
        [&] {
          auto j = job(id);
          return !j.is_null() && holds(j);
        },
        limit);
  }
  bool wait_for_job_state(const std::string& id, const std::string& state,
                          std::chrono::milliseconds limit = 30s) const {
    return wait_for_job(
        id, [&](const json& j) { return j["state"] == state; }, limit);
  }
  // Waits until the job's attempt (number `attempt`) of every task is RUNNING.
  bool wait_for_round_running(const std::string& id, uint32_t attempt,
                              std::chrono::milliseconds limit = 30s) const {
    return wait_for_job(
        id,
        [&](const json& j) {
          size_t running = 0;
          for (const auto& a : j["attempts"])
            running += a["attempt"] == attempt && a["state"] == "RUNNING";
          return running == j["tasks"].get<size_t>();
        },
        limit);
  }

  // The pid an attempt wrote once it started (bounded wait), or 0.
  pid_t pid_of(const std::string& attempt_id) const {
    const auto file = dir + "/" + attempt_id + ".pid";
    pid_t pid = 0;
    wait_until(
        [&] {
          std::ifstream(file) >> pid;
          return pid > 0;
        },
        10s);
    return pid;
  }
  // Whether the process runs (not a zombie) and is one of this cluster's tasks.
  bool task_alive(pid_t pid) const {
    const auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto name_end = stat.rfind(')');
    if (name_end == std::string::npos || name_end + 2 >= stat.size()) return false;
    if (stat[name_end + 2] == 'Z') return false;
    const auto pids = processes_with(marker());
    return std::find(pids.begin(), pids.end(), pid) != pids.end();
  }
  bool wait_for_gone(pid_t pid, std::chrono::milliseconds limit = 10s) const {
    return wait_until([&] { return !task_alive(pid); }, limit);
  }

  // The node daemon an attempt runs on.
  troupe::local::daemon& node_of(const json& attempt) {
    return c.node(attempt["node"].get<std::string>());
  }

  int specs = 0;
};

inline std::string other_node(const std::string& name) {
  return name == "node-1" ? "node-2" : "node-1";
}

// A node played by the test over the protocol, so that it says exactly when its tasks end: it
// registers with 2 CPUs, reports the (no) tasks it holds unless told not to, heartbeats while it
// waits, and starts nothing.
class scripted_node {
 public:
  scripted_node(const cluster& c, const std::string& name, bool reports_tasks = true)
      : client_(c.endpoint(), name, c.enroll_node_key(node_id(name), name)) {
    request_.node_id = node_id(name);
    request_.name = name;
    request_.incarnation = 1;
    request_.addresses = {"tcp://127.0.0.1:1"};
    request_.resources.cpus = 2;
    request_.resources.memory_mb = 1024;
    request_.version = "test";
    const auto reply = client_.call(request_, 5s);
    BOOST_TEST_REQUIRE(
        (reply && std::holds_alternative<troupe::msg::register_node_reply>(reply->body)));
    if (reports_tasks) send(troupe::msg::jobs_message{troupe::msg::node_tasks{}});
  }

  void send(troupe::msg::body body) {
    troupe::msg::envelope env;
    env.sender = request_.name;
    env.body = std::move(body);
    client_.send_raw(troupe::msg::encode(env));
  }

  // The next jobs message of kind T from the head (within 20 s), heartbeating meanwhile.
  template <class T>
  T next() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      troupe::msg::heartbeat beat{request_.node_id, request_.incarnation, ++beats_, {}, {}};
      send(beat);
      const auto got = client_.receive(50ms);
      const auto* env = got ? std::get_if<troupe::msg::envelope>(&*got) : nullptr;
      const auto* m = env ? std::get_if<troupe::msg::jobs_message>(&env->body) : nullptr;
      if (const auto* kill = m ? std::get_if<troupe::msg::kill_task_request>(&m->body) : nullptr)
        killed.push_back(kill->attempt_id);
      if (const auto* wanted = m ? std::get_if<T>(&m->body) : nullptr) return *wanted;
    }
    BOOST_FAIL("no such message from the head within 20 s");
    return {};
  }

  // The attempts the head asked to kill, in the order next() saw the requests.
  std::vector<std::string> killed;

 private:
  static std::string node_id(const std::string& name) {
    char id[33];  // 32 hex digits, as node ids are
    const auto h = static_cast<unsigned long long>(std::hash<std::string>{}(name));
    std::snprintf(id, sizeof id, "%016llx%016llx", h, ~h);
    return id;
  }

  troupe::transport::request_client client_;
  troupe::msg::register_node_request request_;
  uint64_t beats_ = 0;
};

// The arguments of a head (without a worker) that takes a scripted node for dead only after a
// minute's silence; writes the config they name into the cluster's root.
inline std::vector<std::string> patient_head_args(const cluster& c) {
  std::ofstream(c.root() + "/patient.yaml")
      << "failure_detector: {suspect_phi: 50, dead_phi: 100, min_std_dev_ms: 60000}\n";
  return {"--no-worker", "--config", c.root() + "/patient.yaml"};
}

}  // namespace troupe::local::failure_testing
