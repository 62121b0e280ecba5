// Jobs that run `after` others (docs/jobs.md), end to end on one_node: one after a job that
// succeeds runs once it has, one after a job that fails or is cancelled fails without running,
// also when the job it waits for ends while its own submit is being stored.
#include <boost/test/unit_test.hpp>

#include "tests/integration/jobs_support.hpp"
#include "tests/integration/store_write_lock.hpp"

using namespace troupe;
using namespace troupe::local;
using namespace troupe::local::jobs_testing;

BOOST_AUTO_TEST_SUITE(jobs_after)

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
