// Jobs when things fail, with real daemons on loopback: a node killed or frozen under a running
// job, the head killed while jobs run, a gang whose task fails, a PyTorch gang across two nodes,
// standbys (a job waiting on a node behind a running task), and tasks that must not outlive
// their node daemon.
//
// Tasks talk to the test through files in a directory of the cluster's own: they write their
// pid (`$$`) to <attempt id>.pid and wait for a file named `go` before they end. Every task
// carries the cluster's directory in its environment, so that whatever a failing test leaves
// running is found and killed afterwards.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe::local;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* marker_variable = "TROUPE_FAILURE_TEST_CLUSTER";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `spec` (YAML) into the cluster's root as NAME.yaml and submits it with the CLI; returns
// the job id.
std::string submit_spec(const cluster& c, const std::string& name, const std::string& spec) {
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
    fs::create_directories(dir);
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

std::string other_node(const std::string& name) { return name == "node-1" ? "node-2" : "node-1"; }

// A job whose first attempt runs on a node that is then frozen, declared dead, and replaced
// by a second attempt on the other node, now running. The first attempt would exit 7 if it
// ended by itself, the second exits 0.
struct frozen_under_job : two_nodes {
  struct frozen_job {
    std::string id;
    json first;  // the first attempt
    pid_t old_pid;
    std::string node;  // the frozen one
  };
  frozen_job freeze_under_job() {
    const auto id = submit_waiting_job("frozen", "case $TROUPE_ATTEMPT_ID in *.1) exit 7;; esac");
    BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
    const auto first = job(id)["attempts"][0];
    const auto old_pid = pid_of(first["id"].get<std::string>());
    BOOST_TEST_REQUIRE(old_pid > 0);
    const auto frozen = first["node"].get<std::string>();
    c.node(frozen).signal(SIGSTOP);
    BOOST_TEST_REQUIRE(c.wait_for_state(frozen, "dead", 10s), c.dump_logs());
    BOOST_TEST_REQUIRE(wait_for_round_running(id, 2), c.dump_logs());
    return {id, first, old_pid, frozen};
  }
  // The job succeeded with the second attempt's result; the first stays LOST.
  void only_the_new_attempt_counts(const std::string& id, const std::string& frozen) const {
    const auto j = job(id);
    BOOST_TEST_REQUIRE(j["attempts"].size() == 2u, j.dump(2));
    BOOST_TEST(j["state"] == "SUCCEEDED", j.dump(2));
    BOOST_TEST(j["exit_code"] == 0, j.dump(2));
    BOOST_TEST(j["attempts"][0]["state"] == "LOST", "its late report changed nothing\n"
                                                        << j.dump(2));
    BOOST_TEST(j["attempts"][0]["exit_code"].is_null(), j.dump(2));
    BOOST_TEST(j["attempts"][1]["state"] == "SUCCEEDED", j.dump(2));
    BOOST_TEST(j["attempts"][1]["node"] == other_node(frozen), j.dump(2));
  }
};

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
std::vector<std::string> patient_head_args(const cluster& c) {
  std::ofstream(c.root() + "/patient.yaml")
      << "failure_detector: {suspect_phi: 50, dead_phi: 100, min_std_dev_ms: 60000}\n";
  return {"--no-worker", "--config", c.root() + "/patient.yaml"};
}

// A serve job of two replicas on a scripted node of 2 CPUs, both started. The job service treats
// replicas as independent tasks; no replica process runs, so no model is needed. The head takes
// the node for dead only after a minute's silence: the test heartbeats only while it waits for
// a message.
struct scripted_service {
  cluster c;
  std::vector<std::string> head_args = patient_head_args(c);
  std::optional<scripted_node> node;
  std::string id;
  int64_t clock_ms = 1000;  // the times the node reports, increasing

  explicit scripted_service(const std::string& retries) {
    c.start_head(head_args);
    node.emplace(c, "scripted");
    id = submit_spec(c, "service",
                     "name: svc\nkind: serve\nmodel: mlp\nreplicas: 2\nresources: {cpus: 1}\n"
                     "retries: " +
                         retries + "\n");
    BOOST_TEST_REQUIRE(start_next() == attempt(0, 1));
    BOOST_TEST_REQUIRE(start_next() == attempt(1, 1));
  }

  std::string attempt(int task, int number) const {
    return id + "." + std::to_string(task) + "." + std::to_string(number);
  }
  // The next attempt the head has the node start, reported started; its id.
  std::string start_next() {
    namespace msg = troupe::msg;
    const auto attempt_id = node->next<msg::start_task_request>().launch.attempt_id;
    node->send(msg::jobs_message{msg::task_started{attempt_id, 100, 0, clock_ms += 10}});
    return attempt_id;
  }
  // Reports the attempt ended; returns once the head stored that (it acknowledges then).
  void end(const std::string& attempt_id, const troupe::jobs::task_exit& exit) {
    namespace msg = troupe::msg;
    node->send(msg::jobs_message{msg::task_finished{attempt_id, exit, clock_ms += 10, 0, 0}});
    while (node->next<msg::task_finished_ack>().attempt_id != attempt_id) {
    }
  }
  json job() const {
    auto r = c.troupe({"job", id, "--json"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    return json::parse(r.out);
  }
  std::string state_of(const std::string& attempt_id) const {
    const auto j = job();
    for (const auto& a : j["attempts"])
      if (a["id"] == attempt_id) return a["state"].get<std::string>();
    return "";
  }
};

const troupe::jobs::task_exit killed_by_9{std::nullopt, SIGKILL, ""};

}  // namespace

BOOST_AUTO_TEST_SUITE(independent_tasks)

BOOST_AUTO_TEST_CASE(a_replica_that_dies_is_replaced_alone_while_the_other_runs_on) {
  scripted_service s("{max: 3, backoff_s: 0}");
  s.end(s.attempt(1, 1), killed_by_9);
  BOOST_TEST_REQUIRE(s.start_next() == s.attempt(1, 2));
  BOOST_TEST(s.node->killed.empty(), "the head killed " << s.node->killed.size() << " attempts");
  BOOST_TEST(s.state_of(s.attempt(0, 1)) == "RUNNING");
  const auto j = s.job();
  BOOST_TEST(j["state"] == "RUNNING", j.dump(2));
  BOOST_TEST(j["attempts"].size() == 3u, j.dump(2));
  // A replica that exits 0 is replaced as well: a service does not end by itself.
  s.end(s.attempt(1, 2), {0, std::nullopt, ""});
  BOOST_TEST_REQUIRE(s.start_next() == s.attempt(1, 3));
  BOOST_TEST(s.job()["state"] == "RUNNING");
  // A cancel ends every replica.
  const auto cancelled = s.c.troupe({"cancel", s.id});
  BOOST_TEST_REQUIRE(cancelled.exit_code == 0, cancelled.err);
  namespace msg = troupe::msg;
  std::set<std::string> kills{s.node->next<msg::kill_task_request>().attempt_id,
                              s.node->next<msg::kill_task_request>().attempt_id};
  BOOST_TEST((kills == std::set<std::string>{s.attempt(0, 1), s.attempt(1, 3)}));
  BOOST_TEST(s.job()["state"] == "CANCELLED");
}

BOOST_AUTO_TEST_CASE(a_service_whose_replicas_spent_their_retries_fails_once_the_last_one_ends) {
  scripted_service s("{max: 1, backoff_s: 0}");
  s.end(s.attempt(1, 1), killed_by_9);
  BOOST_TEST_REQUIRE(s.start_next() == s.attempt(1, 2));
  s.end(s.attempt(1, 2), {3, std::nullopt, ""});  // task 1's retry spent: not replaced
  auto j = s.job();
  BOOST_TEST(j["state"] == "RUNNING", "task 0 still serves\n" << j.dump(2));
  s.end(s.attempt(0, 1), killed_by_9);
  BOOST_TEST_REQUIRE(s.start_next() == s.attempt(0, 2));
  s.end(s.attempt(0, 2), killed_by_9);
  BOOST_TEST_REQUIRE(wait_until([&] { return s.job()["state"] == "FAILED"; }, 10s));
  j = s.job();
  BOOST_TEST(j["reason"] == "task 1: exit code 3", j.dump(2));
  BOOST_TEST(j["attempts"].size() == 4u, j.dump(2));
  BOOST_TEST(s.node->killed.empty());
}

BOOST_AUTO_TEST_CASE(a_replica_waiting_out_its_backoff_when_the_head_restarts_is_replaced_then) {
  scripted_service s("{max: 3, backoff_s: 3600}");
  s.end(s.attempt(1, 1), killed_by_9);
  s.c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(s.c.head().wait_exit(5s) >= 0);
  s.c.restart_head(s.head_args);
  namespace msg = troupe::msg;
  // The node tells the restarted head what it runs; the head places task 1 again at once.
  s.node->send(msg::jobs_message{msg::node_tasks{{s.attempt(0, 1)}, {}, {}}});
  BOOST_TEST_REQUIRE(s.start_next() == s.attempt(1, 2), s.c.dump_logs());
  BOOST_TEST(s.node->killed.empty());
  const auto j = s.job();
  BOOST_TEST(j["state"] == "RUNNING", j.dump(2));
  BOOST_TEST(s.state_of(s.attempt(0, 1)) == "RUNNING", j.dump(2));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(job_node_failures)

BOOST_FIXTURE_TEST_CASE(a_job_whose_node_is_killed_is_retried_on_the_other_node_and_succeeds,
                        two_nodes) {
  const auto id = submit_waiting_job("killed-node");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  const auto first = job(id)["attempts"][0];
  const auto lost_node = first["node"].get<std::string>();
  node_of(first).signal(SIGKILL);
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 2), c.dump_logs());
  go();
  BOOST_TEST_REQUIRE(wait_for_job_state(id, "SUCCEEDED"), c.dump_logs());
  const auto j = job(id);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 2u, j.dump(2));
  const auto& lost = j["attempts"][0];
  const auto& second = j["attempts"][1];
  BOOST_TEST(lost["state"] == "LOST", j.dump(2));
  BOOST_TEST(lost["reason"].get<std::string>().find(lost_node) != std::string::npos, j.dump(2));
  BOOST_TEST(second["state"] == "SUCCEEDED", j.dump(2));
  BOOST_TEST(second["node"] == other_node(lost_node), j.dump(2));
  BOOST_TEST(second["exit_code"] == 0, j.dump(2));
  BOOST_TEST(j["exit_code"] == 0, j.dump(2));
}

BOOST_FIXTURE_TEST_CASE(a_frozen_nodes_superseded_attempt_is_killed_when_it_thaws_and_never_counts,
                        frozen_under_job) {
  const auto f = freeze_under_job();
  BOOST_TEST(task_alive(f.old_pid), "a frozen daemon's task runs on: only its daemon is stopped");
  c.node(f.node).signal(SIGCONT);
  BOOST_TEST(wait_for_gone(f.old_pid), "the thawed node kills the superseded attempt\n"
                                           << c.dump_logs());
  BOOST_TEST_REQUIRE(c.wait_for_state(f.node, "alive", 10s), c.dump_logs());
  go();
  BOOST_TEST_REQUIRE(wait_for_job_state(f.id, "SUCCEEDED"), c.dump_logs());
  only_the_new_attempt_counts(f.id, f.node);
  BOOST_TEST(c.node(f.node).log().find("killing task " + f.first["id"].get<std::string>()) !=
                 std::string::npos,
             c.node(f.node).log());
}

BOOST_FIXTURE_TEST_CASE(a_superseded_attempt_that_ends_while_its_node_is_frozen_changes_nothing,
                        frozen_under_job) {
  const auto f = freeze_under_job();
  // Both attempts end: the new one with 0, the old one (its daemon f.node) with 7.
  go();
  BOOST_TEST_REQUIRE(wait_for_job_state(f.id, "SUCCEEDED"), c.dump_logs());
  BOOST_TEST_REQUIRE(wait_until([&] { return !task_alive(f.old_pid); }, 10s));
  c.node(f.node).signal(SIGCONT);
  BOOST_TEST_REQUIRE(c.wait_for_state(f.node, "alive", 10s), c.dump_logs());
  const auto reported = "task " + f.first["id"].get<std::string>() + " ended: exit code 7";
  BOOST_TEST_REQUIRE(
      wait_until([&] { return c.node(f.node).log().find(reported) != std::string::npos; }, 10s),
      c.node(f.node).log());
  // The node resends an unacknowledged end with every report (each second): two reports.
  std::this_thread::sleep_for(2s);
  only_the_new_attempt_counts(f.id, f.node);
}

BOOST_FIXTURE_TEST_CASE(a_job_cancelled_while_its_node_is_frozen_has_its_task_killed_on_thaw,
                        two_nodes) {
  const auto id = submit_waiting_job("cancelled-frozen");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  const auto first = job(id)["attempts"][0];
  const auto pid = pid_of(first["id"].get<std::string>());
  BOOST_TEST_REQUIRE(pid > 0);
  auto& frozen = node_of(first);
  frozen.signal(SIGSTOP);
  auto cancelled = c.troupe({"cancel", id});
  BOOST_TEST_REQUIRE(cancelled.exit_code == 0, cancelled.err);
  BOOST_TEST_REQUIRE(c.wait_for_state(first["node"], "dead", 10s), c.dump_logs());
  frozen.signal(SIGCONT);
  BOOST_TEST(wait_for_gone(pid), c.dump_logs());
  const auto j = job(id);
  BOOST_TEST(j["state"] == "CANCELLED", j.dump(2));
  BOOST_TEST(j["attempts"].size() == 1u, "a cancelled job is not retried\n" << j.dump(2));
}

BOOST_AUTO_TEST_SUITE_END()

// Two jobs that run until released (`release(name)`), one on each node, and a third that waits
// as the standby of one of them.
struct standby_behind_a_job : two_nodes {
  std::string a = submit_held("held-a"), b = submit_held("held-b");
  std::string standby;
  json standby_job;
  std::string node;    // the standby's
  std::string ahead;   // the job it follows
  std::string beside;  // the job on the other node

  standby_behind_a_job() {
    BOOST_TEST_REQUIRE(wait_for_round_running(a, 1), c.dump_logs());
    BOOST_TEST_REQUIRE(wait_for_round_running(b, 1), c.dump_logs());
    standby = submit(
        "name: standby\nkind: command\nretries: {max: 1, backoff_s: 0}\n"
        "shell: \"echo $TROUPE_ATTEMPT_ID >> " +
        dir + "/standby.started\"");
    BOOST_TEST_REQUIRE(wait_for_job_state(standby, "SCHEDULED"), job(standby).dump(2));
    standby_job = job(standby);
    node = standby_job["attempts"][0]["node"].get<std::string>();
    const bool behind_a = job(a)["attempts"][0]["node"] == node;
    ahead = behind_a ? a : b;
    beside = behind_a ? b : a;
  }
  std::string submit_held(const std::string& name) {
    return submit("name: " + name + "\nkind: command\nshell: \"while [ ! -f " + dir + "/" + name +
                  ".go ]; do sleep 0.05; done\"");
  }
  void release(const std::string& id) {
    std::ofstream(dir + "/" + job(id)["name"].get<std::string>() + ".go") << "go\n";
  }
  std::string started() const { return read_text(dir + "/standby.started"); }
};

BOOST_AUTO_TEST_SUITE(job_standbys)

BOOST_FIXTURE_TEST_CASE(a_standby_starts_on_its_node_the_moment_the_task_ahead_ends,
                        standby_behind_a_job) {
  BOOST_TEST(standby_job["attempts"].size() == 1u, standby_job.dump(2));
  BOOST_TEST(standby_job["attempts"][0]["state"] == "SCHEDULED", standby_job.dump(2));
  const auto ahead_attempt = job(ahead)["attempts"][0]["id"].get<std::string>();
  BOOST_TEST(
      standby_job["reason"] == "placed on " + node + ", to start when " + ahead_attempt + " ends",
      standby_job.dump(2));
  release(ahead);
  BOOST_TEST_REQUIRE(wait_for_job_state(standby, "SUCCEEDED"), c.dump_logs());
  const auto j = job(standby);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 1u, j.dump(2));
  BOOST_TEST(j["attempts"][0]["node"] == node, j.dump(2));
  const auto ahead_ended = job(ahead)["attempts"][0]["finished_at"];
  BOOST_TEST_REQUIRE(!ahead_ended.is_null());
  BOOST_TEST(j["attempts"][0]["started_at"] >= ahead_ended, "it waited for the task ahead\n"
                                                                << j.dump(2));
  BOOST_TEST(job(beside)["state"] == "RUNNING", "and for that task alone");
  BOOST_TEST(started() == j["attempts"][0]["id"].get<std::string>() + "\n");
  release(beside);
  BOOST_TEST_REQUIRE(wait_for_job_state(beside, "SUCCEEDED"), c.dump_logs());
}

BOOST_FIXTURE_TEST_CASE(a_standby_cancelled_while_it_waits_never_runs, standby_behind_a_job) {
  auto cancelled = c.troupe({"cancel", standby});
  BOOST_TEST_REQUIRE(cancelled.exit_code == 0, cancelled.err);
  BOOST_TEST_REQUIRE(wait_for_job(standby,
                                  [](const json& j) {
                                    return j["state"] == "CANCELLED" &&
                                           j["attempts"][0]["state"] == "CANCELLED";
                                  }),
                     c.dump_logs());
  release(ahead);
  release(beside);
  BOOST_TEST_REQUIRE(wait_for_job_state(ahead, "SUCCEEDED"), c.dump_logs());
  BOOST_TEST_REQUIRE(wait_for_job_state(beside, "SUCCEEDED"), c.dump_logs());
  BOOST_TEST(started().empty());
  BOOST_TEST(job(standby)["attempts"].size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_standby_whose_node_is_killed_is_retried_on_the_other_node,
                        standby_behind_a_job) {
  c.node(node).signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.wait_for_state(node, "dead", 10s), c.dump_logs());
  BOOST_TEST_REQUIRE(
      wait_for_job(standby, [](const json& j) { return j["attempts"].size() == 2u; }),
      c.dump_logs());
  release(beside);
  BOOST_TEST_REQUIRE(wait_for_job_state(standby, "SUCCEEDED"), c.dump_logs());
  const auto j = job(standby);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 2u, j.dump(2));
  BOOST_TEST(j["attempts"][0]["state"] == "LOST", j.dump(2));
  BOOST_TEST(j["attempts"][1]["state"] == "SUCCEEDED", j.dump(2));
  BOOST_TEST(j["attempts"][1]["node"] == other_node(node), j.dump(2));
  BOOST_TEST(started() == j["attempts"][1]["id"].get<std::string>() + "\n", "run once, there");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(job_head_failures)

// A standby cancelled before its turn is dropped by its node when the kill arrives; a job placed
// behind it after that would find nothing to wait for there and start beside the running task.
// So nothing is placed behind it, and the next job follows the running task once it is gone.
BOOST_AUTO_TEST_CASE(no_job_is_placed_behind_a_standby_that_is_being_cancelled) {
  namespace msg = troupe::msg;
  cluster c;
  c.start_head(patient_head_args(c));
  scripted_node node(c, "scripted");
  const auto submit = [&](const std::string& name) {
    return submit_spec(
        c, name, "name: " + name + "\nkind: command\nresources: {cpus: 2}\nargv: [\"true\"]\n");
  };
  const auto running = submit("running");
  const auto first = node.next<msg::start_task_request>();
  BOOST_TEST_REQUIRE(first.launch.attempt_id == running + ".0.1");
  node.send(msg::jobs_message{msg::task_started{first.launch.attempt_id, 100, 0, 1000}});
  const auto waiting = submit("waiting");
  const auto standby = node.next<msg::start_task_request>();
  BOOST_TEST_REQUIRE(standby.launch.attempt_id == waiting + ".0.1");
  BOOST_TEST_REQUIRE(standby.after_attempt_id == first.launch.attempt_id);
  auto cancelled = c.troupe({"cancel", waiting});
  BOOST_TEST_REQUIRE(cancelled.exit_code == 0, cancelled.err);
  BOOST_TEST_REQUIRE(node.next<msg::kill_task_request>().attempt_id == standby.launch.attempt_id);
  const auto next = submit("next");
  // As a node does: the kept standby is dropped and its end reported.
  node.send(msg::jobs_message{msg::task_finished{
      standby.launch.attempt_id, {std::nullopt, std::nullopt, "cancelled"}, 1010, 0, 0}});
  const auto third = node.next<msg::start_task_request>();
  BOOST_TEST(third.launch.attempt_id == next + ".0.1");
  BOOST_TEST(third.after_attempt_id == first.launch.attempt_id, "it follows the running task");
}

// A node reports the tasks it holds every second; the head must not wait for that report to
// reach a node that just joined: its registration tells the head where the node is.
BOOST_AUTO_TEST_CASE(a_node_that_just_joined_gets_its_start_before_it_reported_anything) {
  namespace msg = troupe::msg;
  cluster c;
  c.start_head(patient_head_args(c));
  scripted_node node(c, "silent", false);
  const auto id = submit_spec(c, "job", "name: first\nkind: command\nargv: [\"true\"]\n");
  BOOST_TEST(node.next<msg::start_task_request>().launch.attempt_id == id + ".0.1");
}

// The head stores a task's start without waiting (it rides with the next write), so a head that
// restarts may have lost it; then the node's list of what it runs is what tells it the task
// runs, and the job must be RUNNING as after a start report.
BOOST_AUTO_TEST_CASE(
    a_task_its_node_lists_as_running_makes_its_job_running_without_a_start_report) {
  namespace msg = troupe::msg;
  cluster c;
  c.start_head(patient_head_args(c));
  scripted_node node(c, "scripted");
  const auto id = submit_spec(c, "job", "name: listed\nkind: command\nargv: [\"true\"]\n");
  const auto attempt_id = node.next<msg::start_task_request>().launch.attempt_id;
  msg::node_tasks tasks;
  tasks.running = {attempt_id};
  node.send(msg::jobs_message{tasks});
  json j;
  BOOST_TEST(wait_until(
                 [&] {
                   auto r = c.troupe({"job", id, "--json"});
                   if (r.exit_code != 0) return false;
                   j = json::parse(r.out);
                   return j["state"] == "RUNNING" && j["attempts"][0]["state"] == "RUNNING";
                 },
                 10s),
             j.dump(2));
  BOOST_TEST(j["transitions"].back()["reason"] == "running on scripted", j.dump(2));
}

BOOST_FIXTURE_TEST_CASE(a_head_killed_while_jobs_run_knows_every_job_after_its_restart, two_nodes) {
  const auto succeeded = submit("name: ok\nkind: command\nargv: [\"true\"]");
  const auto failed = submit("name: fails\nkind: command\nshell: \"exit 3\"");
  BOOST_TEST_REQUIRE(wait_for_job_state(succeeded, "SUCCEEDED"), c.dump_logs());
  BOOST_TEST_REQUIRE(wait_for_job_state(failed, "FAILED"), c.dump_logs());
  // Two long jobs take both nodes; a third waits for one of them.
  const auto starts = dir + "/starts";
  const auto long_job = [&](const std::string& name) {
    return submit("name: " + name + "\nkind: command\nretries: {max: 1, backoff_s: 0}\n" +
                  "shell: \"echo $TROUPE_ATTEMPT_ID >> " + starts + "; " + pid_and_wait() + "\"");
  };
  const std::vector<std::string> running{long_job("long-1"), long_job("long-2")};
  for (const auto& id : running) BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  // More memory than a long job holds: it queues rather than wait as a standby.
  const auto queued =
      submit("name: queued\nkind: command\nresources: {memory_mb: 1}\nargv: [\"true\"]");
  BOOST_TEST_REQUIRE(wait_for_job_state(queued, "PENDING"), c.dump_logs());
  std::map<std::string, std::string> attempt_before;
  std::map<std::string, pid_t> pid_before;
  for (const auto& id : running) {
    attempt_before[id] = job(id)["attempts"][0]["id"];
    pid_before[id] = pid_of(attempt_before[id]);
    BOOST_TEST_REQUIRE(pid_before[id] > 0);
  }

  c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) >= 0);
  c.restart_head({"--no-worker"});
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(2), c.dump_logs());

  command_result listed;
  BOOST_TEST_REQUIRE(wait_until(  // the head answers once it recovered the jobs
                         [&] {
                           listed = c.troupe({"jobs", "--json"});
                           return listed.exit_code == 0;
                         },
                         15s),
                     listed.err);
  std::map<std::string, std::string> states;
  for (const auto& j : json::parse(listed.out)) states[j["id"]] = j["state"];
  BOOST_TEST(states.size() == 5u, listed.out);
  BOOST_TEST(states[succeeded] == "SUCCEEDED", listed.out);
  BOOST_TEST(states[failed] == "FAILED", listed.out);
  BOOST_TEST(job(succeeded)["exit_code"] == 0);
  BOOST_TEST(job(failed)["exit_code"] == 3);
  for (const auto& id : running) BOOST_TEST(states[id] == "RUNNING", listed.out);
  BOOST_TEST(states[queued] == "PENDING", listed.out);
  // Nodes report what they run every second, and the head takes a task it placed on a node
  // but does not hear of for 3 s as lost: past that, the long jobs still run their first
  // attempt, in the same processes.
  const auto changed = [&] {
    for (const auto& id : running) {
      const auto j = job(id);
      if (j["state"] != "RUNNING" || j["attempts"].size() != 1) return true;
    }
    return false;
  };
  BOOST_TEST(!wait_until(changed, 5s), c.dump_logs());
  for (const auto& id : running) BOOST_TEST(task_alive(pid_before[id]), "adopted, still running");

  go();
  for (const auto& id : running) BOOST_TEST(wait_for_job_state(id, "SUCCEEDED"), c.dump_logs());
  BOOST_TEST(wait_for_job_state(queued, "SUCCEEDED"), c.dump_logs());
  for (const auto& id : running) {
    const auto j = job(id);
    BOOST_TEST_REQUIRE(j["attempts"].size() == 1u, "adopted, not restarted\n" << j.dump(2));
    BOOST_TEST(j["attempts"][0]["id"] == attempt_before[id], j.dump(2));
    BOOST_TEST(j["attempts"][0]["exit_code"] == 0, j.dump(2));
  }
  std::istringstream lines(read_text(starts));
  std::vector<std::string> started;
  for (std::string line; std::getline(lines, line);) started.push_back(line);
  BOOST_TEST(started.size() == 2u, "each long job started once:\n" << read_text(starts));
}

BOOST_FIXTURE_TEST_CASE(a_job_whose_node_died_while_the_head_was_down_is_retried_after_its_restart,
                        two_nodes) {
  const auto id = submit_waiting_job("node-died-meanwhile");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  const auto first = job(id)["attempts"][0];
  const auto lost_node = first["node"].get<std::string>();
  c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) >= 0);
  node_of(first).signal(SIGKILL);
  BOOST_TEST_REQUIRE(node_of(first).wait_exit(5s) >= 0);
  c.restart_head({"--no-worker"});
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 2), c.dump_logs());
  go();
  BOOST_TEST_REQUIRE(wait_for_job_state(id, "SUCCEEDED"), c.dump_logs());
  const auto j = job(id);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 2u, j.dump(2));
  BOOST_TEST(j["attempts"][0]["state"] == "LOST", j.dump(2));
  BOOST_TEST(j["attempts"][1]["node"] == other_node(lost_node), j.dump(2));
  BOOST_TEST(j["exit_code"] == 0, j.dump(2));
}

BOOST_FIXTURE_TEST_CASE(a_job_that_ends_while_the_head_is_down_has_its_exit_code_after_the_restart,
                        two_nodes) {
  const auto id =
      submit("name: ends-meanwhile\nkind: command\nshell: \"" + pid_and_wait() + "; exit 4\"");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  const auto attempt = job(id)["attempts"][0]["id"].get<std::string>();
  const auto pid = pid_of(attempt);
  BOOST_TEST_REQUIRE(pid > 0);
  c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) >= 0);
  go();
  BOOST_TEST_REQUIRE(wait_for_gone(pid));
  c.restart_head({"--no-worker"});
  BOOST_TEST_REQUIRE(wait_for_job_state(id, "FAILED"), c.dump_logs());
  const auto j = job(id);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 1u, j.dump(2));
  BOOST_TEST(j["attempts"][0]["id"] == attempt, j.dump(2));
  BOOST_TEST(j["attempts"][0]["exit_code"] == 4, j.dump(2));
  BOOST_TEST(j["exit_code"] == 4, j.dump(2));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gang_jobs)

BOOST_AUTO_TEST_CASE(
    a_task_killed_for_its_gang_in_the_same_millisecond_is_not_taken_for_the_cause) {
  cluster c;
  c.start_head({"--no-worker"});
  scripted_node node(c, "scripted");
  const auto id = submit_spec(c, "gang", "name: gang\nkind: command\ntasks: 2\nargv: [\"true\"]\n");
  namespace msg = troupe::msg;
  const auto first = node.next<msg::start_task_request>().launch.attempt_id;
  node.send(msg::jobs_message{msg::task_started{first, 100, 29500, 1000}});
  const auto second = node.next<msg::start_task_request>().launch.attempt_id;
  node.send(msg::jobs_message{msg::task_started{second, 101, 0, 1000}});
  // Task 1 fails; task 0, killed for it, ends in the same millisecond.
  node.send(msg::jobs_message{msg::task_finished{second, {2, std::nullopt, ""}, 2000, 0, 0}});
  const auto kill = node.next<msg::kill_task_request>();
  BOOST_TEST_REQUIRE(kill.attempt_id == first);
  node.send(msg::jobs_message{
      msg::task_finished{first, {std::nullopt, SIGTERM, kill.reason}, 2000, 0, 0}});
  json j;
  BOOST_TEST_REQUIRE(wait_until(
      [&] {
        auto r = c.troupe({"job", id, "--json"});
        if (r.exit_code == 0) j = json::parse(r.out);
        return j.value("state", "") == "FAILED";
      },
      20s));
  BOOST_TEST(j["exit_code"] == 2, j.dump(2));
  BOOST_TEST(j["reason"] == "task 1: exit code 2", j.dump(2));
}

BOOST_FIXTURE_TEST_CASE(a_two_task_pytorch_gloo_job_across_two_nodes_sums_correctly, two_nodes) {
  if (run_command({"/usr/bin/python3", "-c", "import torch"}, 60s).exit_code != 0) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  const char* source = std::getenv("TROUPE_SOURCE_DIR");
  BOOST_TEST_REQUIRE(source != nullptr, "TROUPE_SOURCE_DIR: ctest sets it to the checkout");
  // docs/examples/gang-ddp.yaml, run from the checkout's copy of the script.
  std::istringstream example(read_text(std::string(source) + "/docs/examples/gang-ddp.yaml"));
  std::string spec;
  for (std::string line; std::getline(example, line);)
    if (line.rfind("workdir:", 0) != 0 && line.rfind("#", 0) != 0) spec += line + "\n";
  spec += "workdir: " + std::string(source) + "/docs/examples";
  const auto id = submit(spec);
  BOOST_TEST_REQUIRE(wait_for_job_state(id, "SUCCEEDED", 120s), c.dump_logs());
  const auto j = job(id);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 2u, j.dump(2));
  BOOST_TEST(j["attempts"][0]["node"] != j["attempts"][1]["node"], j.dump(2));
  for (const char* task : {"0", "1"}) {
    auto logs = c.troupe({"logs", id, "--task", task});
    BOOST_TEST(logs.exit_code == 0, logs.err);
    BOOST_TEST(logs.out.find("of 2: sum 3, expected 3: ok") != std::string::npos, logs.out);
  }
}

BOOST_FIXTURE_TEST_CASE(a_failing_task_kills_the_rest_of_its_gang_and_the_gang_is_retried_whole,
                        two_nodes) {
  // First attempt: task 1 fails at once while task 0 waits; the second attempt succeeds.
  const auto id = submit(
      "name: gang-retry\nkind: command\ntasks: 2\nretries: {max: 1, backoff_s: 0}\n"
      "shell: \"echo $$ > " +
      dir + "/$TROUPE_ATTEMPT_ID.pid; case $TROUPE_ATTEMPT_ID in *.1.1) exit 5;; *.0.1) " +
      "while true; do sleep 0.05; done;; esac\"");
  BOOST_TEST_REQUIRE(wait_for_job_state(id, "SUCCEEDED"), c.dump_logs());
  const auto waiting_pid = pid_of(id + ".0.1");
  BOOST_TEST_REQUIRE(waiting_pid > 0);
  BOOST_TEST(wait_for_gone(waiting_pid), "the failed gang's other task is killed");
  const auto j = job(id);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 4u, j.dump(2));
  std::map<std::string, json> by_id;
  for (const auto& a : j["attempts"]) by_id[a["id"]] = a;
  BOOST_TEST(by_id[id + ".1.1"]["exit_code"] == 5, j.dump(2));
  BOOST_TEST(by_id[id + ".1.1"]["state"] == "FAILED", j.dump(2));
  BOOST_TEST(by_id[id + ".0.1"]["state"] == "FAILED", j.dump(2));
  BOOST_TEST(by_id[id + ".0.1"]["reason"] == "task 1 of the job failed", j.dump(2));
  BOOST_TEST(by_id[id + ".0.2"]["state"] == "SUCCEEDED", j.dump(2));
  BOOST_TEST(by_id[id + ".1.2"]["state"] == "SUCCEEDED", j.dump(2));
  BOOST_TEST(j["attempts_made"] == 2, j.dump(2));
}

BOOST_FIXTURE_TEST_CASE(a_gang_that_loses_a_node_kills_its_other_task_and_restarts_whole,
                        two_nodes) {
  const auto id = submit(
      "name: gang-lost-node\nkind: command\ntasks: 2\n"
      "retries: {max: 1, backoff_s: 0}\nshell: \"" +
      pid_and_wait() + "\"");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  const auto round = job(id)["attempts"];
  const auto& lost = round[0];
  const auto& survivor = round[1];
  const auto survivor_pid = pid_of(survivor["id"].get<std::string>());
  BOOST_TEST_REQUIRE(survivor_pid > 0);
  c.start_node("node-3", {"--cpus", "1"});  // room for the new round beside the survivor's node
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(3), c.dump_logs());
  node_of(lost).signal(SIGKILL);
  BOOST_TEST(wait_for_gone(survivor_pid), "the lost task's gang partner is killed");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 2), c.dump_logs());
  go();
  BOOST_TEST_REQUIRE(wait_for_job_state(id, "SUCCEEDED"), c.dump_logs());
  const auto j = job(id);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 4u, j.dump(2));
  std::map<std::string, json> by_id;
  for (const auto& a : j["attempts"]) by_id[a["id"]] = a;
  BOOST_TEST(by_id[lost["id"]]["state"] == "LOST", j.dump(2));
  BOOST_TEST(by_id[survivor["id"]]["state"] == "FAILED", j.dump(2));
  BOOST_TEST(by_id[id + ".0.2"]["state"] == "SUCCEEDED", j.dump(2));
  BOOST_TEST(by_id[id + ".1.2"]["state"] == "SUCCEEDED", j.dump(2));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(task_lifetime)

BOOST_FIXTURE_TEST_CASE(a_task_dies_with_its_killed_node_daemon, two_nodes) {
  const auto id = submit("name: sleeper\nkind: command\nshell: \"echo $$ > " + dir +
                         "/$TROUPE_ATTEMPT_ID.pid; exec sleep 1000\"");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  const auto attempt = job(id)["attempts"][0];
  const auto pid = pid_of(attempt["id"].get<std::string>());
  BOOST_TEST_REQUIRE(pid > 0);
  BOOST_TEST_REQUIRE(wait_until(
      [&] { return read_text("/proc/" + std::to_string(pid) + "/comm") == "sleep\n"; }, 10s));
  node_of(attempt).signal(SIGKILL);
  BOOST_TEST(wait_for_gone(pid), "sleep " << pid << " outlived its node daemon");
}

BOOST_FIXTURE_TEST_CASE(a_tasks_own_children_die_with_its_killed_node_daemon, two_nodes) {
  const auto child_file = dir + "/child.pid";
  const auto id = submit("name: parent\nkind: command\nshell: \"sleep 1000 & echo $! > " +
                         child_file + "; wait\"");
  BOOST_TEST_REQUIRE(wait_for_round_running(id, 1), c.dump_logs());
  pid_t child = 0;
  BOOST_TEST_REQUIRE(wait_until(
      [&] {
        std::ifstream(child_file) >> child;
        return child > 0;
      },
      10s));
  node_of(job(id)["attempts"][0]).signal(SIGKILL);
  BOOST_TEST(wait_for_gone(child), "the task's child " << child << " outlived its node daemon");
}

BOOST_AUTO_TEST_SUITE_END()
