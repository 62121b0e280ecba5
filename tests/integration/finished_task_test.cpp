// A task's end, reported by its node, must survive the head: the node resends the report until
// the head acknowledges it, and the head acknowledges it only once it is stored, however often
// it arrives meanwhile. Real daemons on loopback; the store is stalled by the test holding
// SQLite's write lock on the head's database file.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/store_write_lock.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe::local;

namespace {

nlohmann::json job(const cluster& c, const std::string& id) {
  auto r = c.troupe({"job", id, "--json"});
  if (r.exit_code != 0) return {};
  return nlohmann::json::parse(r.out);
}

bool wait_for_job_state(const cluster& c, const std::string& id, const std::string& state,
                        std::chrono::milliseconds limit = 20s) {
  return wait_until([&] { return job(c, id).value("state", "") == state; }, limit);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(finished_tasks)

BOOST_AUTO_TEST_CASE(a_task_end_the_head_did_not_store_before_it_was_killed_is_not_run_again) {
  cluster c;
  c.start_head({"--no-worker"});
  c.start_node("node-1", {"--cpus", "1"});
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(1), c.dump_logs());
  const auto gate = c.root() + "/gate";
  const auto spec = c.root() + "/job.json";
  std::ofstream(spec) << nlohmann::json{
      {"name", "gated"},
      {"kind", "command"},
      {"resources", {{"cpus", 1}}},
      {"timeout_s", 60},
      {"argv", {"sh", "-c", "while [ ! -e " + gate + " ]; do sleep 0.02; done"}}};
  auto submitted = c.troupe({"submit", spec, "--json"});
  BOOST_TEST_REQUIRE(submitted.exit_code == 0, submitted.err);
  const auto id = nlohmann::json::parse(submitted.out)["id"].get<std::string>();
  BOOST_TEST_REQUIRE(wait_for_job_state(c, id, "RUNNING"), c.dump_logs());

  {
    store_write_lock stalled(c.root() + "/head/troupe.db");
    std::ofstream{gate};
    // The head has the report (it answers from memory) but cannot store it.
    BOOST_TEST_REQUIRE(wait_for_job_state(c, id, "SUCCEEDED"), c.dump_logs());
    // The node resends an unacknowledged report every second: let it do so a few times.
    std::this_thread::sleep_for(3500ms);
    c.head().signal(SIGKILL);
    BOOST_TEST_REQUIRE(c.head().wait_exit(10s) != -1);
  }
  c.restart_head({"--no-worker"});
  // The node still holds the report and gives it to the restarted head; had the head
  // acknowledged it unstored, the attempt would be taken for lost and the job run again.
  BOOST_TEST_REQUIRE(wait_until(
                         [&] {
                           const auto state = job(c, id).value("state", "");
                           return state == "SUCCEEDED" || state == "FAILED";
                         },
                         30s),
                     c.dump_logs());
  const auto ended = job(c, id);
  BOOST_TEST(ended["state"] == "SUCCEEDED", ended.dump());
  BOOST_TEST(ended["attempts"].size() == 1u, ended.dump());
}

BOOST_AUTO_TEST_SUITE_END()
