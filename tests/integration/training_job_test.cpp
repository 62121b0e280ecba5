// Train jobs end to end with real daemons on loopback (docs/training.md, "How a rank runs"): a
// head without a node agent and two one-CPU nodes, so a two-rank job puts one troupe-rank on
// each. The ranks meet through the head's rendezvous, train over Gloo, report their metrics and
// rank 0 checkpoints into the artifact store and registers the exported model; a rank or a node
// killed under the job makes the gang retry and resume; a node killed under an elastic job
// leaves it to go on with fewer ranks. The metrics are stored: a restarted head lists them;
// `troupe submit --wait` shows the progress.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
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

// The step reports of `steps` at or past global step `from`.
std::vector<json> steps_from(const std::vector<json>& steps, int64_t from) {
  std::vector<json> out;
  for (const auto& s : steps)
    if (s["step"].get<int64_t>() >= from) out.push_back(s);
  return out;
}

// One CPU each: a two-rank job puts one rank on each node.
struct two_nodes : rank_cluster {
  two_nodes() : rank_cluster(1, 180s) {}

  // An attempt's working directory on the node it ran on (the runner's tasks/ under the node's).
  std::string workdir(const json& attempt) {
    return c.node(attempt["node"].get<std::string>()).data_dir() + "/tasks/work/" +
           attempt["id"].get<std::string>();
  }

  // The first round failed (a rank gone; its peer stopped or its collective timed out); the
  // second resumed from a checkpoint of the first, so it never reported epoch 1 again.
  void check_second_round_resumed(const std::string& id, const json& j) {
    size_t first_round_succeeded = 0, second_round_succeeded = 0;
    for (const auto& a : j["attempts"]) {
      first_round_succeeded += a["attempt"] == 1 && a["state"] == "SUCCEEDED";
      second_round_succeeded += a["attempt"] == 2 && a["state"] == "SUCCEEDED";
    }
    BOOST_TEST(first_round_succeeded == 0u, j.dump(2));
    BOOST_TEST(second_round_succeeded == 2u, j.dump(2));
    const auto rank0 = id + ".0.2";
    const auto epochs = of_attempt(metrics(id,
                                           [&](const std::vector<json>& all) {
                                             return !of_attempt(all, rank0, "epoch").empty();
                                           }),
                                   rank0, "epoch");
    BOOST_TEST_REQUIRE(!epochs.empty(), all_logs(id));
    BOOST_TEST(epochs.front()["epoch"].get<int>() > 1, epochs.front().dump());
    BOOST_TEST(logs(id, 0).find("rank 0 resumes from checkpoint") != std::string::npos,
               logs(id, 0));
  }

  // The job's model is the newest version of `mlp`, with its artifact, metrics and lineage.
  void check_registered(const std::string& id, int epochs) {
    const auto shown = c.troupe({"model", "mlp", "--json"});
    BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err + c.dump_logs());
    const auto versions = json::parse(shown.out)["versions"];
    BOOST_TEST_REQUIRE(versions.size() == 1u, shown.out);
    const auto& v = versions[0];
    BOOST_TEST(v["version"] == 1);
    BOOST_TEST(v["job_id"] == id);
    BOOST_TEST(v["artifact_digest"].get<std::string>().size() == 64u, shown.out);
    BOOST_TEST_REQUIRE(v["final_metrics"].is_object(), shown.out);
    BOOST_TEST(v["final_metrics"]["epoch"] == epochs, shown.out);
    BOOST_TEST(v["best_metrics"].is_object(), shown.out);
    // One version's view has its parameters: the train spec.
    const auto one = c.troupe({"model", "mlp@1", "--json"});
    BOOST_TEST_REQUIRE(one.exit_code == 0, one.err);
    const auto params = json::parse(one.out)["versions"][0]["params"];
    BOOST_TEST_REQUIRE(params.is_object(), one.out);
    BOOST_TEST(params["world_size"] == 2, one.out);
    BOOST_TEST(v["dataset_fingerprint"].get<std::string>().size() == 64u, shown.out);
  }
};

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
  const auto no_job = run_command({"/usr/bin/env", "-i", "WORLD_SIZE=1", "RANK=0", rank});
  BOOST_TEST(no_job.exit_code == 2);
  BOOST_TEST(no_job.err == "troupe-rank: TROUPE_JOB_ID is not set\n");
  const auto bad_spec =
      run_command({"/usr/bin/env", "-i", "WORLD_SIZE=1", "RANK=0", "TROUPE_JOB_ID=j1",
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

  check_registered(id, 2);
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

BOOST_FIXTURE_TEST_CASE(a_rank_killed_under_a_train_job_resumes_from_the_last_checkpoint,
                        two_nodes) {
  const auto id = submit(train_spec(40, "retries: {max: 2, backoff_s: 0}\n"));
  // Rank 1 of the first attempt, once rank 0 reported a step past the first checkpoint (10).
  const auto victim = id + ".1.1";
  const auto entries = metrics(id, [&](const std::vector<json>& all) {
    return !steps_from(of_attempt(all, id + ".0.1", "step"), 20).empty();
  });
  BOOST_TEST_REQUIRE(!steps_from(of_attempt(entries, id + ".0.1", "step"), 20).empty(),
                     all_logs(id) + c.dump_logs());
  const auto pids = processes_with("TROUPE_ATTEMPT_ID=" + victim);
  BOOST_TEST_REQUIRE(pids.size() == 1u, all_logs(id));
  BOOST_TEST_REQUIRE(::kill(pids[0], SIGKILL) == 0);

  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  check_second_round_resumed(id, j);
  check_registered(id, 40);
}

BOOST_FIXTURE_TEST_CASE(a_node_killed_under_a_train_job_resumes_it_on_the_others, two_nodes) {
  start_node("node-3");
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(3), c.dump_logs());
  const auto id = submit(train_spec(40, "retries: {max: 2, backoff_s: 0}\n"));
  const auto entries = metrics(id, [&](const std::vector<json>& all) {
    return !steps_from(of_attempt(all, id + ".0.1", "step"), 20).empty();
  });
  BOOST_TEST_REQUIRE(!steps_from(of_attempt(entries, id + ".0.1", "step"), 20).empty(),
                     all_logs(id) + c.dump_logs());
  // The node of rank 1: its daemon and, through the parent-death signal, its rank.
  const auto first = job(id);
  std::string victim_node;
  for (const auto& a : first["attempts"])
    if (a["task"] == 1) victim_node = a["node"].get<std::string>();
  BOOST_TEST_REQUIRE(!victim_node.empty(), first.dump(2));
  c.node(victim_node).signal(SIGKILL);
  c.node(victim_node).wait_exit(10s);
  const auto victim = id + ".1.1";
  BOOST_TEST(wait_until([&] { return processes_with("TROUPE_ATTEMPT_ID=" + victim).empty(); }, 10s),
             "rank " + victim + " outlived its node");

  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  for (const auto& a : j["attempts"])
    if (a["attempt"] == 2) BOOST_TEST(a["node"] != victim_node, j.dump(2));
  check_second_round_resumed(id, j);
}

BOOST_FIXTURE_TEST_CASE(a_train_jobs_metrics_are_still_listed_after_the_head_restarts, two_nodes) {
  const auto id = submit(train_spec(2));
  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump(2) + all_logs(id) + c.dump_logs());
  const auto before = metrics(id, [&](const std::vector<json>& all) {
    return of_attempt(all, id + ".0.1", "epoch").size() == 2 &&
           of_attempt(all, id + ".1.1", "epoch").size() == 2;
  });
  BOOST_TEST_REQUIRE(before.size() >= 4u, all_logs(id) + c.dump_logs());

  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(10s) == 0, c.dump_logs());
  c.restart_head({"--no-worker"});
  const auto after = metrics(id, [&](const std::vector<json>& all) { return !all.empty(); });
  BOOST_TEST(json(after).dump() == json(before).dump());
}

BOOST_FIXTURE_TEST_CASE(waiting_for_a_train_job_shows_its_progress_then_its_outcome, two_nodes) {
  // Long enough (about 1400 steps an epoch) for the CLI to see it run.
  auto spec = train_spec(3);
  spec.replace(spec.find("rows: 4000"), 10, "rows: 200000");
  const auto path = c.root() + "/wait.yaml";
  std::ofstream(path) << spec;
  const auto waited = run_command({binary("troupe"), "--head", c.endpoint(), "--credentials",
                                   c.admin_credentials(), "submit", path, "--wait"},
                                  job_limit);
  const auto id = waited.out.substr(0, waited.out.find('\n'));
  BOOST_TEST_REQUIRE(waited.exit_code == 0, waited.err + all_logs(id) + c.dump_logs());
  // Not a terminal: plain lines, the progress ones from rank 0's metrics.
  BOOST_TEST(waited.err.find('\r') == std::string::npos, waited.err);
  BOOST_TEST(waited.err.find("\nepoch ") != std::string::npos, waited.err);
  BOOST_TEST(waited.err.find("/3  step ") != std::string::npos, waited.err);
  BOOST_TEST(waited.err.find("  loss ") != std::string::npos, waited.err);
  const auto last = waited.err.rfind("job " + id + " SUCCEEDED");
  BOOST_TEST(last != std::string::npos, waited.err);
  BOOST_TEST(waited.err.find("epoch ", last) == std::string::npos, waited.err);
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
