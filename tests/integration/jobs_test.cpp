// Jobs end to end with real daemons on loopback: a head without a node agent and one node run
// jobs submitted through the CLI (and a raw client); logs, exit codes, retries, cancel, timeout,
// the memory limit, jobs queued on a full node, refused specs and idempotent submits
// (docs/jobs.md). `after`: jobs_after_test.cpp; tenants: jobs_tenants_test.cpp.
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include "tests/integration/jobs_support.hpp"

using namespace troupe;
using namespace troupe::local;
using namespace troupe::local::jobs_testing;

BOOST_AUTO_TEST_SUITE(jobs_running)

BOOST_FIXTURE_TEST_CASE(a_job_runs_and_its_logs_and_exit_code_are_reported, one_node) {
  const auto id = submit(
      "name: hello\nkind: command\n"
      "shell: 'echo hello from troupe; echo to stderr >&2; exit 7'\n");
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["id"] == id);
  BOOST_TEST(j["name"] == "hello");
  BOOST_TEST(j["state"] == "FAILED");
  BOOST_TEST(j["exit_code"] == 7);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 1u, j.dump());
  const auto& attempt = j["attempts"][0];
  BOOST_TEST(attempt["node"] == "node-1");
  BOOST_TEST(attempt["state"] == "FAILED");
  BOOST_TEST(attempt["exit_code"] == 7);
  const auto submitted = j["submitted_at"].get<int64_t>();
  const auto started = j["started_at"].get<int64_t>();
  const auto finished = j["finished_at"].get<int64_t>();
  BOOST_TEST(submitted > 0);
  BOOST_TEST(submitted <= started);
  BOOST_TEST(started <= finished);

  auto logs = c.troupe({"logs", id});
  BOOST_TEST(logs.exit_code == 0, logs.err);
  BOOST_TEST(contains(logs.out, "hello from troupe\n"), logs.out);
  BOOST_TEST(contains(logs.out, "to stderr\n"), logs.out);
}

BOOST_FIXTURE_TEST_CASE(submit_wait_exits_with_the_jobs_exit_code, one_node) {
  auto failed = submit_spec("name: three\nkind: command\nshell: 'exit 3'\n", {"--wait"});
  BOOST_TEST(failed.exit_code == 3, failed.out + failed.err);
  BOOST_TEST(contains(failed.err, " FAILED"), failed.err);
  auto succeeded = submit_spec("name: fine\nkind: command\nargv: [\"true\"]\n", {"--wait"});
  BOOST_TEST(succeeded.exit_code == 0, succeeded.out + succeeded.err);
  const auto id = succeeded.out.substr(0, succeeded.out.find('\n'));
  const auto j = job(id);
  BOOST_TEST(j["state"] == "SUCCEEDED");
  BOOST_TEST(j["exit_code"] == 0);
  BOOST_TEST(j["attempts"][0]["exit_code"] == 0);
}

BOOST_FIXTURE_TEST_CASE(submit_json_prints_the_id, one_node) {
  auto submitted = submit_spec("name: hello\nkind: command\nargv: [\"true\"]\n", {"--json"});
  BOOST_TEST_REQUIRE(submitted.exit_code == 0, submitted.err);
  const auto id = json::parse(submitted.out)["id"].get<std::string>();
  BOOST_TEST(job(id)["name"] == "hello");
}

BOOST_FIXTURE_TEST_CASE(a_failing_task_fails_the_whole_gang_and_its_other_task_is_killed,
                        one_node) {
  const auto id = submit(
      "name: gang\nkind: command\ntasks: 2\n"
      "shell: 'if [ \"$RANK\" = 1 ]; then exit 2; fi; sleep 1000'\n");
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "FAILED", j.dump());
  BOOST_TEST(j["exit_code"] == 2, j.dump());
  BOOST_TEST(contains(j["reason"], "task 1: exit code 2"), j.dump());
  BOOST_TEST_REQUIRE(j["attempts"].size() == 2u, j.dump());
  BOOST_TEST(j["attempts"][0]["state"] != "RUNNING", j.dump());
  BOOST_TEST(j["attempts"][0]["exit_code"].is_null(), j.dump());  // killed
}

BOOST_FIXTURE_TEST_CASE(a_job_cancelled_while_it_waits_for_its_retry_is_not_retried, one_node) {
  const auto id =
      submit("name: flaky\nkind: command\nretries: {max: 1, backoff_s: 3600}\nshell: 'exit 1'\n");
  wait_for_job(id, "RETRYING");
  BOOST_TEST(c.troupe({"cancel", id}).exit_code == 0);
  const auto j = job(id);
  BOOST_TEST(j["state"] == "CANCELLED", j.dump());
  BOOST_TEST(j["attempts"].size() == 1u, j.dump());
}

BOOST_FIXTURE_TEST_CASE(a_job_killed_by_a_signal_reports_it_and_submit_wait_exits_128_plus_it,
                        one_node) {
  auto killed = submit_spec("name: killed\nkind: command\nshell: 'kill -9 $$'\n", {"--wait"});
  BOOST_TEST(killed.exit_code == 128 + 9, killed.out + killed.err);
  const auto j = job(killed.out.substr(0, killed.out.find('\n')));
  BOOST_TEST(j["state"] == "FAILED");
  BOOST_TEST(j["attempts"][0]["signal"] == 9, j.dump());
  BOOST_TEST(j["attempts"][0]["exit_code"].is_null(), j.dump());
}

BOOST_FIXTURE_TEST_CASE(each_task_of_a_gang_job_has_its_own_logs, one_node) {
  const auto id =
      submit("name: gang\nkind: command\ntasks: 2\nshell: 'echo rank $RANK of $WORLD_SIZE'\n");
  BOOST_TEST(wait_until_ended(id)["state"] == "SUCCEEDED");
  BOOST_TEST(c.troupe({"logs", id}).out == "rank 0 of 2\n");
  BOOST_TEST(c.troupe({"logs", id, "--task", "1"}).out == "rank 1 of 2\n");
  auto no_task = c.troupe({"logs", id, "--task", "2"});
  BOOST_TEST(no_task.exit_code == 1);
  BOOST_TEST(contains(no_task.err, "taskIndex: the job has 2 tasks"), no_task.err);
}

BOOST_FIXTURE_TEST_CASE(logs_follow_prints_the_output_until_the_job_ends, one_node) {
  const auto go = path("go");
  const auto id = submit("name: follow\nkind: command\nshell: 'echo first; while [ ! -e " + go +
                         " ]; do sleep 0.05; done; echo second'\n");
  wait_for_job(id, "RUNNING");
  wait_until([&] { return contains(c.troupe({"logs", id}).out, "first"); }, job_limit);
  std::ofstream(go) << "go\n";
  auto followed = c.troupe({"logs", id, "-f"});
  BOOST_TEST(followed.exit_code == 0, followed.err);
  BOOST_TEST(followed.out == "first\nsecond\n");
  BOOST_TEST(job(id)["state"] == "SUCCEEDED");
}

BOOST_FIXTURE_TEST_CASE(a_job_that_fails_once_succeeds_on_its_retry, one_node) {
  const auto id = submit(
      "name: flaky\nkind: command\nretries: {max: 2, backoff_s: 0}\n"
      "shell: 'if [ \"${TROUPE_ATTEMPT_ID##*.}\" = 1 ]; then exit 3; fi; echo second try'\n");
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "SUCCEEDED", j.dump());
  BOOST_TEST(j["exit_code"] == 0);
  BOOST_TEST_REQUIRE(j["attempts"].size() == 2u, j.dump());
  BOOST_TEST(j["attempts"][0]["state"] == "FAILED");
  BOOST_TEST(j["attempts"][0]["exit_code"] == 3);
  BOOST_TEST(j["attempts"][1]["state"] == "SUCCEEDED");
  BOOST_TEST(j["attempts"][1]["exit_code"] == 0);
  bool retried = false;
  for (const auto& t : j["transitions"]) retried |= t["to"] == "RETRYING";
  BOOST_TEST(retried, j.dump());
  BOOST_TEST(contains(c.troupe({"logs", id}).out, "second try"));
}

BOOST_FIXTURE_TEST_CASE(cancel_kills_the_whole_group_even_a_child_that_ignores_sigterm, one_node) {
  const auto pid_file = path("child.pid");
  const auto id =
      submit("name: stubborn\nkind: command\nshell: \"trap '' TERM; sleep 1000 & echo $! > " +
             pid_file + "; wait\"\n");
  const pid_t child = pid_written_to(pid_file);
  BOOST_TEST_REQUIRE(child > 0, c.dump_logs());
  BOOST_TEST_REQUIRE(process_alive(child));
  wait_for_job(id, "RUNNING");

  auto cancelled = c.troupe({"cancel", id});
  BOOST_TEST(cancelled.exit_code == 0, cancelled.err);
  BOOST_TEST(cancelled.out == "job " + id + " CANCELLED\n");
  BOOST_TEST(wait_until([&] { return !process_alive(child); }, job_limit), c.dump_logs());
  const auto j = job(id);
  BOOST_TEST(j["state"] == "CANCELLED");
  BOOST_TEST(wait_until([&] { return is_final(job(id)["attempts"][0]["state"]); }, job_limit),
             job(id).dump());
}

BOOST_FIXTURE_TEST_CASE(a_job_past_its_timeout_fails_with_reason_timeout, one_node) {
  const auto id = submit("name: slow\nkind: command\ntimeout_s: 1\nargv: [\"sleep\", \"1000\"]\n");
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "FAILED", j.dump());
  BOOST_TEST(contains(j["reason"], "timeout"), j.dump());
  BOOST_TEST(j["attempts"][0]["reason"] == "timeout", j.dump());
}

BOOST_FIXTURE_TEST_CASE(a_job_past_its_memory_limit_is_killed, one_node) {
  const auto id = submit(
      "name: hungry\nkind: command\ntimeout_s: 60\nresources: {memory_mb: 64}\n"
      "shell: \"/usr/bin/python3 -c 'import time; x = b\\\"a\\\" * (256 << 20); time.sleep(1000)' "
      "& wait\"\n");  // the allocation is in a child of the task's first process
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "FAILED", j.dump());
  BOOST_TEST(contains(j["reason"], "memory limit exceeded"), j.dump());
  BOOST_TEST(j["attempts"][0]["reason"] == "memory limit exceeded", j.dump());
}

// Jobs that fill the node wait there behind the running one, two at most (standbys), and run
// one after another; one cancelled while it waits leaves its place to the one behind it.
BOOST_FIXTURE_TEST_CASE(jobs_waiting_on_a_full_node_run_in_turn_even_when_one_is_cancelled,
                        one_node) {
  const auto go = path("go"), order = path("order");
  const auto step = [&](const std::string& name, const std::string& wait_for) {
    const auto wait =
        wait_for.empty() ? std::string() : "while [ ! -e " + wait_for + " ]; do sleep 0.05; done; ";
    return submit("name: " + name + "\nkind: command\nresources: {cpus: 4}\nshell: 'echo " + name +
                  " start >> " + order + "; " + wait + "echo " + name + " end >> " + order + "'\n");
  };
  const auto first = step("first", go);
  wait_for_job(first, "RUNNING");
  const auto second = step("second", "");
  const auto third = step("third", "");
  const auto fourth = step("fourth", "");
  wait_for_job(second, "SCHEDULED");
  wait_for_job(third, "SCHEDULED");
  BOOST_TEST(job(fourth)["state"] == "PENDING", "two wait behind a task at most");
  auto cancelled = c.troupe({"cancel", second});
  BOOST_TEST_REQUIRE(cancelled.exit_code == 0, cancelled.err);
  wait_for_job(second, "CANCELLED");
  std::ofstream(go) << "go\n";
  for (const auto& id : {first, third, fourth})
    BOOST_TEST(wait_until_ended(id)["state"] == "SUCCEEDED", job(id).dump(2) + c.dump_logs());
  BOOST_TEST(read_text(order) ==
             "first start\nfirst end\nthird start\nthird end\nfourth start\n"
             "fourth end\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(jobs_submit)

BOOST_FIXTURE_TEST_CASE(bad_specs_are_refused_naming_the_field_and_nothing_is_stored, one_node) {
  const std::vector<std::pair<std::string, std::string>> refused{
      {"name: x\nkind: command\nargv: [\"true\"]\nresources: {gpu: 1}\n",
       "resources.gpu: unknown field"},
      {"name: x\nkind: command\nargv: [\"true\"]\ntasks: \"2\"\n", "tasks: expected"},
      {"kind: command\nargv: [\"true\"]\n", "name: required field missing"},
      {"name: x\nkind: command\n", "argv: required field missing"},
      {"name: x\nkind: command\nargv: [\"true\"]\nresources: {gpus: 1}\n", "resources.gpus: "},
      {"name: x\nkind: command\nargv: [\"true\"]\nresources: {memory_mb: 4096}\n",
       "resources.memory_mb: "},
      {"name: x\nkind: command\nargv: [\"true\"]\nresources: {cpus: 8}\n", "resources.cpus: "},
      {"name: x\nkind: command\nargv: [\"true\"]\nresources: {labels: {zone: mars}}\n",
       "resources.labels: "},
  };
  for (const auto& [spec, message] : refused) {
    auto result = submit_spec(spec);
    BOOST_TEST(result.exit_code == 1, spec);
    BOOST_TEST(result.out.empty(), result.out);
    BOOST_TEST(result.err.rfind("troupe: " + message, 0) == 0u, result.err);
  }
  BOOST_TEST(jobs().empty());
}

BOOST_FIXTURE_TEST_CASE(a_submit_retried_after_a_lost_reply_makes_one_job, one_node) {
  transport::request_client client(c.endpoint(), "test", c.admin_keys());
  const msg::submit_job_request request{"name: once\nkind: command\nargv: [\"true\"]\n",
                                        "request-1"};
  // The first reply is dropped (as if lost): the client never reads it.
  client.send_raw(
      msg::encode(msg::envelope{msg::protocol_version, 1, "test", msg::jobs_message{request}}));
  const auto second = submit_until_answered(client, request);
  BOOST_TEST_REQUIRE(second.has_value(), c.dump_logs());
  BOOST_TEST(second->existing);
  const auto listed = jobs();
  BOOST_TEST_REQUIRE(listed.size() == 1u, listed.dump());
  BOOST_TEST(listed[0]["id"] == second->job_id);
}

BOOST_FIXTURE_TEST_CASE(a_submit_retried_after_the_head_restarted_makes_one_job, one_node) {
  const msg::submit_job_request request{"name: once\nkind: command\nargv: [\"true\"]\n",
                                        "request-1"};
  std::optional<msg::submit_job_reply> first;
  {
    transport::request_client client(c.endpoint(), "test", c.admin_keys());
    first = submit_until_answered(client, request);
  }
  BOOST_TEST_REQUIRE(first.has_value(), c.dump_logs());
  BOOST_TEST(!first->existing);
  c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.head().wait_exit(10s) != -1);
  c.restart_head({"--no-worker"});
  transport::request_client client(c.endpoint(), "test", c.admin_keys());
  const auto again = submit_until_answered(client, request);
  BOOST_TEST_REQUIRE(again.has_value(), c.dump_logs());
  BOOST_TEST(again->existing);
  BOOST_TEST(again->job_id == first->job_id);
  BOOST_TEST(jobs().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
