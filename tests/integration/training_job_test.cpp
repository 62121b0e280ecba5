// Train jobs end to end with real daemons on loopback (docs/training.md, "How a rank runs"): a
// head without a node agent and two one-CPU nodes, so a two-rank job puts one troupe-rank on
// each. The ranks meet through the head's rendezvous, train over Gloo, report their metrics and
// rank 0 writes the exported model; a rank killed under the job makes the gang retry; a node
// killed under an elastic job leaves it to go on with fewer ranks.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>

#include "tests/integration/rank_cluster.hpp"

using namespace troupe::local;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// 2 ranks, each epoch 29 steps (1800 training rows a rank, batch 64).
std::string train_spec(int epochs, const std::string& extra = "") {
  return R"(name: mlp
kind: train
world_size: 2
resources: {cpus: 1}
model: {type: mlp, layers: [16, 32, 4]}
task: classification
data: {synthetic: {rows: 4000, features: 16, classes: 4, seed: 7}, validation_split: 0.1}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
batch_size: 64
seed: 42
checkpoint: {every_steps: 10, keep: 2}
)" + std::string("epochs: ") +
         std::to_string(epochs) + "\n" + extra;
}

// One CPU each: a two-rank job puts one rank on each node.
struct two_nodes : rank_cluster {
  two_nodes() : rank_cluster(1, 180s) {}

  // An attempt's working directory on the node it ran on (the runner's tasks/ under the node's).
  std::string workdir(const json& attempt) {
    return c.node(attempt["node"].get<std::string>()).data_dir() + "/tasks/work/" +
           attempt["id"].get<std::string>();
  }
};

// The attempts of one round (attempt number) of a job as `troupe job ID --json` shows it.
std::vector<json> of_round(const json& job, int round) {
  std::vector<json> out;
  for (const auto& a : job["attempts"])
    if (a["attempt"] == round) out.push_back(a);
  return out;
}

std::vector<json> of_attempt(const std::vector<json>& entries, const std::string& attempt,
                             const std::string& kind) {
  std::vector<json> out;
  for (const auto& e : entries)
    if (e["attempt"] == attempt && e["kind"] == kind) out.push_back(e);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(train_jobs)

BOOST_AUTO_TEST_CASE(a_rank_with_a_bad_environment_exits_2_naming_the_variable) {
  const auto rank = binary("troupe-rank");
  const auto no_world = run_command({"/usr/bin/env", "-i", rank});
  BOOST_TEST(no_world.exit_code == 2);
  BOOST_TEST(no_world.err == "troupe-rank: WORLD_SIZE is not set\n");
  const auto bad_rank = run_command({"/usr/bin/env", "-i", "WORLD_SIZE=2", "RANK=2", rank});
  BOOST_TEST(bad_rank.exit_code == 2);
  BOOST_TEST(bad_rank.err == "troupe-rank: RANK: expected a whole number from 0 to 1, got '2'\n");
  const auto bad_spec = run_command({"/usr/bin/env", "-i", "WORLD_SIZE=1", "RANK=0",
                                     "TROUPE_TRAIN_SPEC={\"epochs\": \"many\"}", rank});
  BOOST_TEST(bad_spec.exit_code == 2);
  BOOST_TEST(bad_spec.err.rfind("troupe-rank: TROUPE_TRAIN_SPEC: ", 0) == 0u, bad_spec.err);
}

BOOST_FIXTURE_TEST_CASE(a_two_rank_train_job_learns_reports_its_metrics_and_exports_its_model,
                        two_nodes) {
  const auto id = submit(train_spec(2));
  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  BOOST_TEST(j["attempts"][0]["node"] != j["attempts"][1]["node"], j.dump(2));

  const auto entries = metrics(id, [&](const std::vector<json>& all) {
    for (const char* task : {".0.1", ".1.1"})
      if (of_attempt(all, id + task, "epoch").size() < 2) return false;
    return true;
  });
  for (const char* task : {".0.1", ".1.1"}) {
    const auto attempt = id + task;
    BOOST_TEST(!of_attempt(entries, attempt, "step").empty(), attempt);
    const auto epochs = of_attempt(entries, attempt, "epoch");
    BOOST_TEST_REQUIRE(epochs.size() == 2u, attempt);
    BOOST_TEST(epochs[1]["train_loss"].get<double>() < epochs[0]["train_loss"].get<double>(),
               attempt + ": " + epochs[0].dump() + " then " + epochs[1].dump());
  }

  for (const auto& attempt : j["attempts"]) {
    const auto dir = workdir(attempt);
    const bool rank0 = attempt["task"] == 0;
    BOOST_TEST(fs::exists(dir + "/model.pt") == rank0, dir);
    BOOST_TEST(fs::exists(dir + "/model.json") == rank0, dir);
    if (rank0) {
      size_t checkpoints = 0;
      for (const auto& f : fs::directory_iterator(dir + "/checkpoints"))
        checkpoints += f.path().extension() == ".ckpt";
      BOOST_TEST(checkpoints == 2u, dir);  // keep: 2
    }
  }
}

BOOST_FIXTURE_TEST_CASE(a_rank_killed_under_a_train_job_makes_the_gang_retry_and_succeed,
                        two_nodes) {
  const auto id = submit(train_spec(40, "retries: {max: 2, backoff_s: 0}\n"));
  // Rank 1 of the first attempt, once it reported a step (it is training, past its rendezvous).
  const auto victim = id + ".1.1";
  const auto entries = metrics(
      id, [&](const std::vector<json>& all) { return !of_attempt(all, victim, "step").empty(); });
  BOOST_TEST_REQUIRE(!of_attempt(entries, victim, "step").empty(), all_logs(id) + c.dump_logs());
  const auto pids = processes_with("TROUPE_ATTEMPT_ID=" + victim);
  BOOST_TEST_REQUIRE(pids.size() == 1u, all_logs(id));
  BOOST_TEST_REQUIRE(::kill(pids[0], SIGKILL) == 0);

  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  // The first round failed (the killed rank; its peer stopped or its collective timed out),
  // the second trained both ranks to the end.
  size_t first_round_succeeded = 0, second_round_succeeded = 0;
  for (const auto& a : j["attempts"]) {
    first_round_succeeded += a["attempt"] == 1 && a["state"] == "SUCCEEDED";
    second_round_succeeded += a["attempt"] == 2 && a["state"] == "SUCCEEDED";
  }
  BOOST_TEST(first_round_succeeded == 0u, j.dump(2));
  BOOST_TEST(second_round_succeeded == 2u, j.dump(2));
}

BOOST_AUTO_TEST_SUITE_END()

// A two-rank job trains; the node where rank 1 runs is killed (-9) under it once rank 1 of the
// job's latest round reported a step (it trains, past its rendezvous). The node of rank 0 alone
// remains. The rounds after `killed_round` are what the job did about it.
struct node_killed_under_a_job : two_nodes {
  std::string id;
  int killed_round = 0;
  std::string lost_node, survivor;

  void submit_and_kill_rank_1s_node(const std::string& extra) {
    id = submit(train_spec(40, "retries: {max: 3, backoff_s: 0}\n" + extra));
    std::vector<json> round;
    wait_for(id, [&](const json& j) {
      killed_round = j["attempts_made"].get<int>();
      round = of_round(j, killed_round);
      if (round.size() != 2u || round[1]["state"] != "RUNNING") return false;
      const auto entries = metrics(id, [](const std::vector<json>&) { return true; });
      return !of_attempt(entries, round[1]["id"], "step").empty();
    });
    lost_node = round[1]["node"].get<std::string>();
    survivor = round[0]["node"].get<std::string>();
    c.node(lost_node).signal(SIGKILL);
    BOOST_TEST_REQUIRE(c.wait_for_state(lost_node, "dead"), c.dump_logs());
  }

  // The attempts of the rounds after the kill, each round's in task order.
  std::vector<std::vector<json>> rounds_after_the_kill(const json& j) const {
    std::vector<std::vector<json>> out;
    for (int r = killed_round + 1; r <= j["attempts_made"].get<int>(); ++r)
      out.push_back(of_round(j, r));
    return out;
  }
};

BOOST_AUTO_TEST_SUITE(elastic_train_jobs)

BOOST_FIXTURE_TEST_CASE(an_elastic_job_whose_rank_node_is_killed_goes_on_with_one_rank_and_succeeds,
                        node_killed_under_a_job) {
  submit_and_kill_rank_1s_node("elastic: {min_world_size: 1}\n");
  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  for (const auto& a : of_round(j, killed_round)) BOOST_TEST(a["state"] != "SUCCEEDED", j.dump(2));
  // Each round since: rank 0 alone, on the node left, told it is a world of one.
  const auto after = rounds_after_the_kill(j);
  BOOST_TEST_REQUIRE(!after.empty(), j.dump(2));
  for (const auto& round : after) {
    BOOST_TEST_REQUIRE(round.size() == 1u, j.dump(2));
    BOOST_TEST(round[0]["task"] == 0);
    BOOST_TEST(round[0]["node"] == survivor);
  }
  const auto last = after.back()[0];
  BOOST_TEST(last["id"] == id + ".0." + std::to_string(j["attempts_made"].get<int>()));
  BOOST_TEST(last["state"] == "SUCCEEDED");
  BOOST_TEST(j["tasks"] == 2);
  BOOST_TEST(j["round_tasks"] == 1);
  BOOST_TEST(logs(id, 0).find("rank 0 of 1 trained") != std::string::npos, logs(id, 0));
  bool told = false;
  for (const auto& t : j["transitions"])
    told |= t["reason"].get<std::string>().find("1 of its 2 tasks (elastic)") != std::string::npos;
  BOOST_TEST(told, j.dump(2));
}

BOOST_FIXTURE_TEST_CASE(a_head_restarted_under_a_shrunk_elastic_job_keeps_its_round_of_one_rank,
                        node_killed_under_a_job) {
  submit_and_kill_rank_1s_node("elastic: {min_world_size: 1}\n");
  int shrunk_round = 0;
  wait_for(id, [&](const json& j) {
    shrunk_round = j["attempts_made"].get<int>();
    const auto round = of_round(j, shrunk_round);
    return shrunk_round > killed_round && round.size() == 1u && round[0]["state"] == "RUNNING";
  });
  c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) >= 0);
  c.restart_head({"--no-worker"});
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(1), c.dump_logs());

  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  BOOST_TEST(j["attempts_made"] == shrunk_round, j.dump(2));  // the recovered round ended it
  const auto round = of_round(j, shrunk_round);
  BOOST_TEST_REQUIRE(round.size() == 1u, j.dump(2));
  BOOST_TEST(round[0]["state"] == "SUCCEEDED", j.dump(2));
  BOOST_TEST(j["round_tasks"] == 1);
}

BOOST_FIXTURE_TEST_CASE(a_job_that_is_not_elastic_waits_for_a_replacement_node_and_runs_every_rank,
                        node_killed_under_a_job) {
  submit_and_kill_rank_1s_node("");
  // The round ends (rank 1 lost with its node) and the gang waits to be placed whole.
  const auto waiting = wait_for(id, [](const json& j) { return j["state"] == "RETRYING"; });
  BOOST_TEST(of_round(waiting, killed_round).at(1)["state"] == "LOST", waiting.dump(2));
  BOOST_TEST(rounds_after_the_kill(waiting).empty(), waiting.dump(2));
  BOOST_TEST(waiting["round_tasks"] == 2);
  start_node("node-3");
  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  // Every round since ran both ranks, on the node left and the replacement.
  const auto after = rounds_after_the_kill(j);
  BOOST_TEST_REQUIRE(!after.empty(), j.dump(2));
  for (const auto& round : after) {
    BOOST_TEST_REQUIRE(round.size() == 2u, j.dump(2));
    std::set<std::string> nodes;
    for (const auto& a : round) nodes.insert(a["node"].get<std::string>());
    BOOST_TEST((nodes == std::set<std::string>{survivor, "node-3"}), j.dump(2));
  }
  BOOST_TEST(logs(id, 1).find("rank 1 of 2 trained") != std::string::npos, logs(id, 1));
}

BOOST_AUTO_TEST_SUITE_END()
