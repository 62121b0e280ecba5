// Jobs when things fail, with real daemons on loopback: a node killed or frozen under a running
// job, a gang whose task fails, a PyTorch gang across two nodes, standbys (a job waiting on a
// node behind a running task), independent tasks of a serve job, and tasks that must not outlive
// their node daemon (job_head_failures_test.cpp: the head killed while jobs run). How tasks talk
// to the test: job_failures_support.hpp.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/job_failures_support.hpp"

using namespace troupe::local;
using namespace troupe::local::failure_testing;
using nlohmann::json;

namespace {

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
