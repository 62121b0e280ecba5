// Jobs and a head that restarts or meets a node anew, with real daemons on loopback (and nodes
// played by the test): what a node says as it joins (a standby being cancelled, a start before
// any report, a task it lists as running), and a head killed while jobs run (every job known
// after its restart, a node that died meanwhile, a job that ended meanwhile).
// job_failures_support.hpp: the cluster and the scripted node.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "tests/integration/job_failures_support.hpp"

using namespace troupe::local;
using namespace troupe::local::failure_testing;
using nlohmann::json;

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
