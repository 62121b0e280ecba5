// Jobs end to end with real daemons on loopback: a head without a node agent and one node run
// jobs submitted through the CLI (and a raw client); logs, exit codes, retries, cancel, timeout,
// the memory limit, refused specs, idempotent submits, tenants and `after` (docs/jobs.md).
#include <signal.h>
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "cluster/security/credentials.hpp"
#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;
using nlohmann::json;

namespace {

constexpr auto job_limit = 30s;  // how long any one job of these tests may take to end

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Whether the process exists and is not a zombie (an orphan may wait for a lazy reaper).
bool process_alive(pid_t pid) {
  const auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  const auto after_name = stat.rfind(')');
  return after_name != std::string::npos && stat.substr(after_name + 2, 1) != "Z";
}

bool is_final(const std::string& state) {
  return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED";
}

// A head that runs no tasks itself and node-1 with 4 CPUs, 2 GiB and no GPU: every task runs
// on node-1.
struct one_node {
  cluster c;
  one_node() {
    c.start_head({"--no-worker"});
    c.start_node("node-1", {"--cpus", "4", "--memory-mb", "2048", "--gpus", "0"});
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(1), c.dump_logs());
    BOOST_TEST_REQUIRE(c.nodes().count("node-1") == 1u, c.dump_logs());
  }

  // Writes `spec` into the cluster's temp dir; returns its path.
  std::string spec_file(const std::string& spec) const {
    static int count = 0;
    const auto path = c.root() + "/spec-" + std::to_string(++count) + ".yaml";
    std::ofstream(path) << spec;
    return path;
  }

  command_result submit_spec(const std::string& spec, std::vector<std::string> flags = {}) const {
    std::vector<std::string> args{"submit", spec_file(spec)};
    args.insert(args.end(), flags.begin(), flags.end());
    return c.troupe(args);
  }

  // Submits through the CLI; returns the job id it printed.
  std::string submit(const std::string& spec) const {
    auto result = submit_spec(spec);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err + c.dump_logs());
    auto id = result.out.substr(0, result.out.find('\n'));
    BOOST_TEST_REQUIRE(id.size() == 17u, result.out);
    return id;
  }

  // `troupe job ID --json`.
  json job(const std::string& id) const {
    auto result = c.troupe({"job", id, "--json"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    return json::parse(result.out);
  }

  // Waits until the job is in `state`; returns the job as last seen.
  json wait_for_job(const std::string& id, const std::string& state) const {
    json seen;
    const bool reached = wait_until(
        [&] {
          seen = job(id);
          return seen["state"] == state;
        },
        job_limit);
    BOOST_TEST_REQUIRE(reached, "job " + id + " is " + seen.dump() + "\n" + c.dump_logs());
    return seen;
  }

  // Waits until the job has ended, in whichever final state.
  json wait_until_ended(const std::string& id) const {
    json seen;
    const bool ended = wait_until(
        [&] {
          seen = job(id);
          return is_final(seen["state"].get<std::string>());
        },
        job_limit);
    BOOST_TEST_REQUIRE(ended, "job " + id + " is " + seen.dump() + "\n" + c.dump_logs());
    return seen;
  }

  // `troupe jobs --json` with `flags`.
  json jobs(std::vector<std::string> flags = {}) const {
    std::vector<std::string> args{"jobs", "--json"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto result = c.troupe(args);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    return json::parse(result.out);
  }

  // A path in the cluster's temp dir for a task to write to or wait for.
  std::string path(const std::string& name) const { return c.root() + "/" + name; }
};

// Waits (bounded) until a task wrote a whole number into the file.
pid_t pid_written_to(const std::string& file) {
  pid_t pid = 0;
  wait_until(
      [&] {
        const auto text = read_text(file);
        if (text.empty() || text.back() != '\n') return false;
        pid = static_cast<pid_t>(std::stol(text));
        return true;
      },
      job_limit);
  return pid;
}

// Sends the submit until the head answers it with a job (it answers unavailable while the
// submission with the same client request id is not stored yet); nullopt if it never did.
std::optional<msg::submit_job_reply> submit_until_answered(transport::request_client& client,
                                                           const msg::submit_job_request& request) {
  std::optional<msg::submit_job_reply> answer;
  wait_until(
      [&] {
        auto reply = client.call(msg::jobs_message{request}, 5s);
        auto* m = reply ? std::get_if<msg::jobs_message>(&reply->body) : nullptr;
        if (auto* r = m ? std::get_if<msg::submit_job_reply>(&m->body) : nullptr) answer = *r;
        return answer.has_value();
      },
      job_limit);
  return answer;
}

// Holds the write lock of the head's SQLite store while it lives: every write of the head waits
// (and fails after its busy timeout, and is retried) until it goes away.
class store_write_lock {
 public:
  explicit store_write_lock(const std::string& file) {
    BOOST_TEST_REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
    BOOST_TEST_REQUIRE(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK,
                       sqlite3_errmsg(db_));
  }
  ~store_write_lock() {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  store_write_lock(const store_write_lock&) = delete;
  store_write_lock& operator=(const store_write_lock&) = delete;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

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

BOOST_FIXTURE_TEST_CASE(a_job_after_a_failing_job_fails_without_running, one_node) {
  const auto go = path("go");
  const auto first = submit("name: first\nkind: command\nshell: 'while [ ! -e " + go +
                            " ]; do sleep 0.05; done; exit 1'\n");
  const auto second =
      submit("name: second\nkind: command\nafter: [" + first + "]\nargv: [\"true\"]\n");
  BOOST_TEST(job(second)["state"] == "PENDING");
  std::ofstream(go) << "go\n";
  BOOST_TEST(wait_until_ended(first)["state"] == "FAILED");
  const auto j = wait_until_ended(second);
  BOOST_TEST(j["state"] == "FAILED", j.dump());
  BOOST_TEST(contains(j["reason"], first), j.dump());
  BOOST_TEST(j["attempts"].empty(), j.dump());
  // After a job that has already failed: refused to run at once.
  const auto third =
      submit("name: third\nkind: command\nafter: [" + first + "]\nargv: [\"true\"]\n");
  const auto k = wait_until_ended(third);
  BOOST_TEST(k["state"] == "FAILED", k.dump());
  BOOST_TEST(contains(k["reason"], first), k.dump());
  BOOST_TEST(k["attempts"].empty(), k.dump());
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

BOOST_FIXTURE_TEST_CASE(a_job_after_a_succeeding_job_runs_once_it_succeeded, one_node) {
  const auto go = path("go");
  const auto first = submit("name: first\nkind: command\nshell: 'while [ ! -e " + go +
                            " ]; do sleep 0.05; done'\n");
  const auto second =
      submit("name: second\nkind: command\nafter: [" + first + "]\nshell: 'echo ran'\n");
  BOOST_TEST(job(second)["state"] == "PENDING");
  std::ofstream(go) << "go\n";
  const auto j = wait_until_ended(second);
  BOOST_TEST(j["state"] == "SUCCEEDED", j.dump());
  BOOST_TEST(j["attempts"].size() == 1u);
  BOOST_TEST(job(first)["state"] == "SUCCEEDED");
  const auto first_finished = job(first)["finished_at"].get<int64_t>();
  BOOST_TEST(j["started_at"].get<int64_t>() >= first_finished);
  BOOST_TEST(contains(c.troupe({"logs", second}).out, "ran"));
}

BOOST_FIXTURE_TEST_CASE(a_queued_job_cancelled_never_runs_and_its_dependants_fail, one_node) {
  const auto go = path("go");
  const auto big = "resources: {cpus: 4}\n";
  const auto running = submit(std::string("name: running\nkind: command\n") + big +
                              "shell: 'while [ ! -e " + go + " ]; do sleep 0.05; done'\n");
  wait_for_job(running, "RUNNING");
  // More memory than the running job holds: it queues rather than wait there as its standby.
  const auto queued =
      submit("name: queued\nkind: command\nresources: {cpus: 4, memory_mb: 1}\nargv: [\"true\"]\n");
  const auto behind =
      submit("name: behind\nkind: command\nafter: [" + queued + "]\nargv: [\"true\"]\n");
  BOOST_TEST(jobs({"--state", "PENDING"}).size() == 2u);
  auto cancelled = c.troupe({"cancel", queued});
  BOOST_TEST(cancelled.exit_code == 0, cancelled.err);
  std::ofstream(go) << "go\n";
  BOOST_TEST(wait_until_ended(running)["state"] == "SUCCEEDED");
  const auto q = job(queued);
  BOOST_TEST(q["state"] == "CANCELLED", q.dump());
  BOOST_TEST(q["attempts"].empty(), q.dump());
  const auto b = wait_until_ended(behind);
  BOOST_TEST(b["state"] == "FAILED", b.dump());
  BOOST_TEST(contains(b["reason"], queued), b.dump());
  BOOST_TEST(jobs({"--state", "SUCCEEDED"}).size() == 1u);
  auto again = c.troupe({"cancel", running});  // an ended job keeps its state
  BOOST_TEST(again.out == "job " + running + " SUCCEEDED\n", again.out + again.err);
}

// The dependency ends while the dependant's submission is still being stored (the store is held
// up meanwhile): the dependant must see how it ended, not wait for an end that already came.
std::string submit_after_a_job_that_ends_while_the_submit_is_stored(const one_node& f,
                                                                    int dependency_exit) {
  const auto go = f.path("go");
  const auto first =
      f.submit("name: first\nkind: command\nshell: 'while [ ! -e " + go +
               " ]; do sleep 0.05; done; exit " + std::to_string(dependency_exit) + "'\n");
  f.wait_for_job(first, "RUNNING");
  transport::request_client client(f.c.endpoint(), "test", f.c.admin_keys());
  const msg::submit_job_request second{
      "name: second\nkind: command\nafter: [" + first + "]\nargv: [\"true\"]\n", "second"};
  {
    store_write_lock lock(f.c.root() + "/head/troupe.db");
    client.send_raw(
        msg::encode(msg::envelope{msg::protocol_version, 1, "test", msg::jobs_message{second}}));
    BOOST_TEST_REQUIRE(wait_until([&] { return f.jobs().size() == 2u; }, job_limit));
    std::ofstream(go) << "go\n";
    BOOST_TEST_REQUIRE(wait_until([&] { return is_final(f.job(first)["state"]); }, job_limit),
                       f.c.dump_logs());
  }
  const auto answer = submit_until_answered(client, second);
  BOOST_TEST_REQUIRE(answer.has_value(), f.c.dump_logs());
  return answer->job_id;
}

BOOST_FIXTURE_TEST_CASE(a_job_after_one_that_succeeded_while_it_was_being_stored_runs, one_node) {
  const auto id = submit_after_a_job_that_ends_while_the_submit_is_stored(*this, 0);
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "SUCCEEDED", j.dump());
  BOOST_TEST(j["attempts"].size() == 1u, j.dump());
}

BOOST_FIXTURE_TEST_CASE(a_job_after_one_that_failed_while_it_was_being_stored_fails, one_node) {
  const auto id = submit_after_a_job_that_ends_while_the_submit_is_stored(*this, 1);
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "FAILED", j.dump());
  BOOST_TEST(j["attempts"].empty(), j.dump());
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

BOOST_AUTO_TEST_SUITE(jobs_tenants)

// one_node plus a submit key of tenant ml, and a job of tenant other submitted by the admin.
struct two_tenants : one_node {
  std::string credentials = c.root() + "/ml.credentials";
  std::string other_job;
  two_tenants() {
    auto created = c.troupe(
        {"credentials", "create", "--role", "submit", "--tenant", "ml", "--out", credentials});
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    other_job = submit("name: theirs\nkind: command\ntenant: other\nargv: [\"sleep\", \"1000\"]\n");
  }
  command_result as_ml(std::vector<std::string> args) const {
    std::vector<std::string> argv{binary("troupe"), "--head",       c.endpoint(), "--credentials",
                                  credentials,      "--timeout-ms", "2000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
};

BOOST_FIXTURE_TEST_CASE(a_submit_key_manages_its_tenants_jobs_and_sees_no_other, two_tenants) {
  auto submitted =
      as_ml({"submit", spec_file("name: mine\nkind: command\nargv: [sleep, '1000']\n")});
  BOOST_TEST_REQUIRE(submitted.exit_code == 0, submitted.err);
  const auto mine = submitted.out.substr(0, submitted.out.find('\n'));

  auto listed = as_ml({"jobs", "--json"});
  BOOST_TEST_REQUIRE(listed.exit_code == 0, listed.err);
  const auto visible = json::parse(listed.out);
  BOOST_TEST_REQUIRE(visible.size() == 1u, visible.dump());
  BOOST_TEST(visible[0]["id"] == mine);
  BOOST_TEST(visible[0]["tenant"] == "ml");
  BOOST_TEST(json::parse(as_ml({"jobs", "--json", "--tenant", "other"}).out).empty());

  auto got = as_ml({"job", mine, "--json"});
  BOOST_TEST_REQUIRE(got.exit_code == 0, got.err);
  BOOST_TEST(json::parse(got.out)["tenant"] == "ml");
  BOOST_TEST(as_ml({"logs", mine}).exit_code == 0);

  for (const auto& command : {"job", "cancel", "logs"}) {
    auto refused = as_ml({command, other_job});
    BOOST_TEST(refused.exit_code == 1, command);
    BOOST_TEST(contains(refused.err, "(not_found)"), refused.err);
  }
  BOOST_TEST(job(other_job)["state"] != "CANCELLED");

  auto cancelled = as_ml({"cancel", mine});
  BOOST_TEST(cancelled.exit_code == 0, cancelled.err);
  BOOST_TEST(job(mine)["state"] == "CANCELLED");
}

BOOST_FIXTURE_TEST_CASE(a_submit_key_may_not_submit_to_another_tenant, two_tenants) {
  auto refused = as_ml(
      {"submit", spec_file("name: sneaky\nkind: command\ntenant: other\nargv: [\"true\"]\n")});
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(contains(refused.err, "tenant: "), refused.err);
  BOOST_TEST(jobs().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_admin_sees_every_tenants_jobs, two_tenants) {
  auto submitted = as_ml({"submit", spec_file("name: mine\nkind: command\nargv: [\"true\"]\n")});
  BOOST_TEST_REQUIRE(submitted.exit_code == 0, submitted.err);
  const auto all = jobs();
  BOOST_TEST_REQUIRE(all.size() == 2u, all.dump());
  std::set<std::string> tenants;
  for (const auto& j : all) tenants.insert(j["tenant"].get<std::string>());
  BOOST_TEST((tenants == std::set<std::string>{"ml", "other"}));
  BOOST_TEST(jobs({"--tenant", "ml"}).size() == 1u);
  BOOST_TEST(c.troupe({"cancel", other_job}).exit_code == 0);
  BOOST_TEST(job(other_job)["state"] == "CANCELLED");
}

BOOST_AUTO_TEST_SUITE_END()
