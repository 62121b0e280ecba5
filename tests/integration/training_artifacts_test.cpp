// A rank's artifacts and model through its node, with real daemons on loopback
// (docs/training.md, "rank link"): gang tasks running troupe-test-rank fetch datasets into their
// node's cache, publish checkpoints and are refused what their attempt may not touch; the ranks
// of a train job (troupe-test-rank in troupe-rank's place) register their model.
#include <signal.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/rank_cluster.hpp"

using namespace troupe;
using namespace troupe::local;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fetch as troupe-test-rank printed it: "fetch N: PATH inode INODE sha256 DIGEST".
struct fetched {
  std::string path;
  std::string inode;
  std::string digest;
};

std::vector<fetched> fetches_in(const std::string& log) {
  static const std::regex line(R"(fetch \d: (\S+) inode (\d+) sha256 ([0-9a-f]{64}))");
  std::vector<fetched> out;
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it)
    out.push_back({(*it)[1], (*it)[2], (*it)[3]});
  return out;
}

// Puts `bytes` as dataset `name` with `troupe data put`; returns its digest.
std::string put_dataset(const cluster& c, const std::string& name, const std::string& bytes,
                        const std::string& tenant = "") {
  const auto path = c.root() + "/" + name + ".csv";
  std::ofstream(path, std::ios::binary) << bytes;
  std::vector<std::string> args{"data", "put", path, "--name", name};
  if (!tenant.empty()) args.insert(args.end(), {"--tenant", tenant});
  auto put = c.troupe(args);
  BOOST_TEST_REQUIRE(put.exit_code == 0, put.err + c.dump_logs());
  return put.out.substr(0, 64);
}

// Two nodes of `cpus` CPUs each, and what the tests put and run on them.
struct artifact_nodes : rank_cluster {
  explicit artifact_nodes(int cpus = 2) : rank_cluster(cpus, 90s) {}

  std::string put(const std::string& name, const std::string& bytes,
                  const std::string& tenant = "") const {
    return put_dataset(c, name, bytes, tenant);
  }

  // A gang of two 1-CPU tasks running troupe-test-rank with `args`; waits until it ended.
  std::string run_ranks(const std::string& args) const {
    const auto id = submit("name: ranks\nkind: command\ntasks: 2\nresources: {cpus: 1}\nshell: '" +
                           binary("troupe-test-rank") + " " + args + "'\n");
    const auto j = wait_until_ended(id);
    BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump() + all_logs(id) + c.dump_logs());
    return id;
  }
};

// Nodes of 1 CPU each: a gang of two 1-CPU tasks has one task on each.
struct one_task_per_node : artifact_nodes {
  one_task_per_node() : artifact_nodes(1) {}
};

// A folder whose troupe-rank is troupe-test-rank, beside a trouped: a node running that trouped
// runs troupe-test-rank as the ranks of train jobs. Hard links (a copy where links cannot be
// made), in the build's folder; removed at the end.
struct test_rank_programs {
  fs::path dir;
  test_rank_programs() {
    const fs::path built = fs::path(binary("trouped")).parent_path();
    dir = built.parent_path() / ("test-rank-programs-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (const auto& [from, to] : {std::pair<const char*, const char*>{"trouped", "trouped"},
                                   {"troupe-test-rank", "troupe-rank"}}) {
      std::error_code ec;
      fs::create_hard_link(built / from, dir / to, ec);
      if (ec) fs::copy_file(built / from, dir / to, fs::copy_options::overwrite_existing);
    }
  }
  ~test_rank_programs() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Destroyed in reverse order: the daemons stop before their programs' folder goes.
struct train_rank_nodes : test_rank_programs, rank_cluster {
  train_rank_nodes() : rank_cluster(2, 90s, dir.string()) {}

  std::string submit_train(const std::string& model_name, const std::string& more = "") const {
    return submit(
        "name: txn-train-job\nkind: train\nworld_size: 2\nresources: {cpus: 1}\n"
        "model: {type: mlp, layers: [16, 32, 4]}\ntask: classification\n"
        "data: {synthetic: {rows: 400, features: 16, classes: 4, seed: 7}}\n"
        "optimizer: {name: sgd, lr: 0.05}\nepochs: 1\nbatch_size: 64\n"
        "output: {model_name: " +
        model_name + "}\n" + more);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(rank_artifacts)

BOOST_FIXTURE_TEST_CASE(a_dataset_put_with_the_cli_is_fetched_on_both_nodes_and_then_reused,
                        one_task_per_node) {
  std::string bytes = "amount,category\n";
  for (int i = 0; i < 40'000; ++i)
    bytes += std::to_string(i * 7 % 1000) + ".5,c" + std::to_string(i % 10) + "\n";
  const auto digest = put("txn-train", bytes);

  std::map<int, fetched> first_job;
  const auto id = run_ranks("fetch txn-train");
  for (int task : {0, 1}) {
    const auto shown = fetches_in(logs(id, task));
    BOOST_TEST_REQUIRE(shown.size() == 2u, logs(id, task));
    for (const auto& f : shown) BOOST_TEST(f.digest == digest);
    BOOST_TEST(read_file(shown[0].path) == bytes, "task " << task);
    // The second fetch found the copy the first made: the same file, not a new download.
    BOOST_TEST(shown[1].path == shown[0].path);
    BOOST_TEST(shown[1].inode == shown[0].inode);
    first_job[task] = shown[0];
  }
  const auto on_node = [&](const fetched& f, const char* node) {
    return f.path.rfind(c.node(node).data_dir() + "/", 0) == 0;
  };
  BOOST_TEST((on_node(first_job[0], "node-1") != on_node(first_job[1], "node-1")),
             "both copies on one node: " << first_job[0].path << " " << first_job[1].path);
  BOOST_TEST((on_node(first_job[0], "node-2") != on_node(first_job[1], "node-2")));

  // Another job on the same nodes uses the copies already there.
  const auto again = run_ranks("fetch txn-train");
  for (int task : {0, 1}) {
    const auto shown = fetches_in(logs(again, task));
    BOOST_TEST_REQUIRE(shown.size() == 2u, logs(again, task));
    const auto& before = on_node(shown[0], "node-1") == on_node(first_job[0], "node-1")
                             ? first_job[0]
                             : first_job[1];
    BOOST_TEST(shown[0].path == before.path);
    BOOST_TEST(shown[0].inode == before.inode);
  }
}

BOOST_FIXTURE_TEST_CASE(a_published_checkpoint_is_fetched_back_by_its_jobs_name_and_by_digest,
                        artifact_nodes) {
  const auto id = run_ranks("checkpoints");
  const auto out = logs(id, 0);
  BOOST_TEST(contains(out, "as " + id + "/checkpoint (job " + id + ")"), out);
  BOOST_TEST(contains(out, "fetched " + id + "/checkpoint@"), out);
  BOOST_TEST(contains(out, "fetched bytes 14+100 of " + id + "/checkpoint@"), out);
  // The latest version is what a client gets by the name too.
  const auto got = c.root() + "/checkpoint.out";
  auto get = c.troupe({"data", "get", id + "/checkpoint", got});
  BOOST_TEST_REQUIRE(get.exit_code == 0, get.err);
  BOOST_TEST(read_file(got) == "checkpoint at step 1000");
  auto ls = c.troupe({"--json", "data", "ls", "--all"});
  BOOST_TEST_REQUIRE(ls.exit_code == 0, ls.err);
  size_t versions = 0;
  for (const auto& a : json::parse(ls.out))
    if (a["name"] == id + "/checkpoint") {
      ++versions;
      BOOST_TEST(a["kind"] == "checkpoint");
    }
  BOOST_TEST(versions == 2u, ls.out);
}

BOOST_FIXTURE_TEST_CASE(what_an_attempt_may_not_touch_is_refused_with_its_error, artifact_nodes) {
  put("txn-train", "a,b\n1,2\n");
  put("other-tenants", "secret,data\n1,2\n", "other");
  const auto id = run_ranks("refusals");
  const auto out = logs(id, 0);
  for (const char* line :
       {"a file outside the working dir: refused: path: /etc/passwd is outside the attempt's "
        "working directory",
        "a symlink out of the working dir: refused: path: escape is outside the attempt's "
        "working directory",
        "a name of another job: refused: name: a rank of job ",
        "a file that is not there: refused: path: no file nothing.ckpt",
        "another attempt's id: refused: this key speaks only for attempt ",
        "a name no artifact has: refused: no artifact no-such-dataset in tenant default",
        "another tenant's dataset by name: refused: no artifact other-tenants in tenant default",
        "a range past the end: refused: offset 9 is past the end of the artifact (8 bytes)",
        "an offset without a length: refused: length: an offset needs a length"})
    BOOST_TEST(contains(out, line), line << "\n" << out);
}

// The node queues at most 16 fetches and answers each by its timeout, whatever the head does.
BOOST_FIXTURE_TEST_CASE(
    fetches_past_16_queued_are_overloaded_and_those_a_stopped_head_leaves_time_out,
    artifact_nodes) {
  put("txn-train", "a,b\n1,2\n");
  const auto dir = c.root() + "/limits";
  fs::create_directories(dir);
  const auto id = submit("name: limits\nkind: command\ntasks: 2\nresources: {cpus: 1}\nshell: '" +
                         binary("troupe-test-rank") + " transfer-limits " + dir + "'\n");
  BOOST_TEST_REQUIRE(wait_until([&] { return fs::exists(dir + "/ready"); }, 60s),
                     all_logs(id) + c.dump_logs());
  c.head().signal(SIGSTOP);
  std::ofstream(dir + "/head-stopped").close();
  const bool answered = wait_until([&] { return fs::exists(dir + "/done"); }, 60s);
  c.head().signal(SIGCONT);
  BOOST_TEST_REQUIRE(answered, c.dump_logs());
  // The first 16 wait for a head that never answers; the rest find the queue full. A fetch that
  // came after the first ones had timed out would be queued and time out too.
  static const std::regex counts(R"(fetched (\d+), overloaded (\d+), timeout (\d+), other (\d+))");
  std::smatch m;
  const auto answers = read_file(dir + "/done");
  BOOST_TEST_REQUIRE(std::regex_search(answers, m, counts), answers);
  BOOST_TEST_MESSAGE("20 fetches with the head stopped: " << answers);
  BOOST_TEST(std::stoi(m[1]) == 0, answers);
  BOOST_TEST(std::stoi(m[2]) >= 1, answers);
  BOOST_TEST(std::stoi(m[3]) >= 16, answers);
  BOOST_TEST(std::stoi(m[4]) == 0, answers);
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "SUCCEEDED", j.dump() + all_logs(id) + c.dump_logs());
}

BOOST_FIXTURE_TEST_CASE(task_0_of_a_train_job_registers_its_published_model_once,
                        train_rank_nodes) {
  const auto id = submit_train("txn-category");
  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump() + all_logs(id) + c.dump_logs());
  const auto rank0 = logs(id, 0), rank1 = logs(id, 1);
  // Registered again, the job's model keeps the version it got.
  BOOST_TEST(contains(rank0, "registration 1: txn-category version 1"), rank0);
  BOOST_TEST(contains(rank0, "registration 2: txn-category version 1"), rank0);
  BOOST_TEST(contains(rank0, "registering a checkpoint: refused: artifactDigest: job " + id +
                                 " published no model with sha256 "),
             rank0);
  BOOST_TEST(contains(rank1,
                      "rank 1 registering: refused: only task 0 of a train job registers "
                      "its model"),
             rank1);

  auto shown = c.troupe({"model", "txn-category", "--json"});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err + c.dump_logs());
  const auto model = json::parse(shown.out);
  BOOST_TEST_REQUIRE(model["versions"].size() == 1u, shown.out);
  const auto& v = model["versions"][0];
  BOOST_TEST(v["version"] == 1);
  BOOST_TEST(v["job_id"] == id);
  BOOST_TEST(v["dataset_fingerprint"] == "sha256:" + std::string(64, 'f'));
  // One version's view holds its parameters: the job's train spec.
  auto one = c.troupe({"model", "txn-category@1", "--json"});
  BOOST_TEST_REQUIRE(one.exit_code == 0, one.err);
  const auto params = json::parse(one.out)["versions"][0]["params"];
  BOOST_TEST(params["output"]["model_name"] == "txn-category", one.out);
  BOOST_TEST(params["world_size"] == 2, one.out);
}

BOOST_FIXTURE_TEST_CASE(a_train_job_keeps_only_its_newest_checkpoints_and_their_blobs,
                        train_rank_nodes) {
  // A dataset with the bytes of the first checkpoint: that blob must outlive its checkpoint.
  const auto shared = put_dataset(c, "same-bytes", "checkpoint at step 1");
  const auto id = submit_train("txn-kept", "checkpoint: {keep: 2}\n");
  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump() + all_logs(id) + c.dump_logs());
  std::map<int, std::string> published;
  static const std::regex line(R"(checkpoint (\d): ([0-9a-f]{64}))");
  const auto rank0 = logs(id, 0);
  for (std::sregex_iterator it(rank0.begin(), rank0.end(), line), end; it != end; ++it)
    published[std::stoi((*it)[1])] = (*it)[2];
  BOOST_TEST_REQUIRE(published.size() == 4u, rank0);
  BOOST_TEST(published[1] == shared);

  auto ls = c.troupe({"--json", "data", "ls", "--all"});
  BOOST_TEST_REQUIRE(ls.exit_code == 0, ls.err);
  std::set<std::string> kept;
  for (const auto& a : json::parse(ls.out))
    if (a["name"] == id + "/checkpoint") kept.insert(a["sha256"].get<std::string>());
  BOOST_TEST((kept == std::set<std::string>{published[3], published[4]}), ls.out);
  // The second checkpoint's bytes are gone from the head; the first's stay for the dataset.
  const auto blobs = c.node("head").data_dir() + "/artifacts/blobs/";
  BOOST_TEST(!fs::exists(blobs + published[2]));
  BOOST_TEST(!fs::exists(blobs + published[2] + ".sums"));
  BOOST_TEST(fs::exists(blobs + published[4]));
  const auto got = c.root() + "/same-bytes.out";
  auto get = c.troupe({"data", "get", "same-bytes", got});
  BOOST_TEST_REQUIRE(get.exit_code == 0, get.err);
  BOOST_TEST(read_file(got) == "checkpoint at step 1");
}

// The digests troupe-test-rank assemble printed, by file ("part-0: DIGEST", ...).
std::map<std::string, std::string> printed_digests(const std::string& log) {
  static const std::regex line(R"(([a-z0-9.-]+): ([0-9a-f]{64})\n)");
  std::map<std::string, std::string> out;
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it)
    out[(*it)[1]] = (*it)[2];
  return out;
}

BOOST_FIXTURE_TEST_CASE(a_rank_assembles_its_jobs_parts_into_one_dataset_and_the_parts_go,
                        artifact_nodes) {
  put("txn-train", "a,b\n1,2\n");
  put("other-tenants", "id,score\n1,2\n", "other");
  const auto first = run_ranks("assemble");
  // A dataset the first job made and kept is another job's to the second.
  const auto second = run_ranks("assemble " + first + "/other-header");
  const auto blobs = c.node("head").data_dir() + "/artifacts/blobs/";
  for (const auto& id : {first, second}) {
    const auto out = logs(id, 0);
    for (const auto& line : std::vector<std::string>{
             "a header that differs: refused: parts[1] (" + id +
                 "/other-header): its header line `id,other\\n` is not the first part's "
                 "`id,score\\n`",
             "a dataset of no job: refused: parts[1] (txn-train): not a dataset of job " + id,
             "another tenant's dataset: refused: parts[1] (other-tenants): no dataset "
             "other-tenants in tenant default",
             "another attempt's id: refused: this key speaks only for attempt " + id + ".0.1"})
      BOOST_TEST(contains(out, line), line << "\n" << out);
    const auto digests = printed_digests(out);
    BOOST_TEST_REQUIRE(digests.size() == 4u, out);
    const auto got = c.root() + "/scores.csv";
    auto get = c.troupe({"data", "get", id + "/scores", got});
    BOOST_TEST_REQUIRE(get.exit_code == 0, get.err + c.dump_logs());
    BOOST_TEST(read_file(got) == "id,score\n1,10\n2,20\n3,30\n");
    // Every version of the parts went, the earlier one too, and with them their bytes.
    for (const char* part : {"part-0", "part-1.earlier", "part-1"}) {
      BOOST_TEST(!fs::exists(blobs + digests.at(part)), part);
      BOOST_TEST(!fs::exists(blobs + digests.at(part) + ".sums"), part);
    }
  }
  BOOST_TEST(contains(logs(second, 0), "another job's dataset: refused: parts[1] (" + first +
                                           "/other-header): not a dataset of job " + second),
             logs(second, 0));
  auto ls = c.troupe({"--json", "data", "ls", "--all"});
  BOOST_TEST_REQUIRE(ls.exit_code == 0, ls.err);
  std::set<std::string> names;
  for (const auto& a : json::parse(ls.out)) names.insert(a["name"].get<std::string>());
  BOOST_TEST((names == std::set<std::string>{"txn-train", "other-tenants", first + "/other-header",
                                             first + "/scores", second + "/other-header",
                                             second + "/scores"}),
             ls.out);
}

BOOST_FIXTURE_TEST_CASE(a_rank_of_a_job_that_is_not_a_train_job_may_not_register_a_model,
                        artifact_nodes) {
  const auto id = run_ranks("register");
  BOOST_TEST(contains(logs(id, 0), "refused: only task 0 of a train job registers its model"),
             logs(id, 0));
}

BOOST_AUTO_TEST_SUITE_END()
