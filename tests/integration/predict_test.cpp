// Predict jobs end to end with real daemons on loopback: a head without a node agent and two
// one-CPU nodes. A small MLP scripted by Debian's python3-torch is imported with `troupe model
// register`, a CSV of a few thousand rows is put with `troupe data put`, and a predict job of two
// tasks scores it (one troupe-predict per node). The result fetched with `troupe data get` equals
// PyTorch's own forward pass row for row, in input order (assembled on the head from the tasks'
// parts, which are gone afterwards); its progress reached every row. A bad row fails the job,
// its line and id named in the job's reason.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>

#include "tests/integration/rank_cluster.hpp"

using namespace troupe::local;
using nlohmann::json;

namespace {

constexpr int rows = 3000;

std::string rows_script() {
  const char* source = std::getenv("TROUPE_SOURCE_DIR");
  BOOST_TEST_REQUIRE(source, "TROUPE_SOURCE_DIR must name the source tree (CTest sets it)");
  return std::string(source) + "/tests/integration/predict_rows.py";
}

std::string predict_spec(const std::string& dataset, const std::string& output) {
  return "name: rescore\nkind: predict\nmodel: txn-category\ntasks: 2\nbatch_rows: 256\n"
         "resources: {cpus: 1}\ninput: {dataset: " +
         dataset + ", id_column: txn}\noutput: {dataset: " + output + "}\n";
}

struct predict_cluster : rank_cluster {
  predict_cluster() : rank_cluster(1, 180s) {
    const auto made = run_command(
        {"/usr/bin/python3", rows_script(), "make", c.root(), std::to_string(rows)}, 120s);
    BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
    const auto registered =
        c.troupe({"model", "register", "txn-category", c.root() + "/model.pt", "--input-features",
                  "6", "--classes", "food,rent,travel", "--outputs", "logits"});
    BOOST_TEST_REQUIRE(registered.exit_code == 0, registered.err);
    put(c.root() + "/rows.csv", "txns");
  }

  void put(const std::string& file, const std::string& name) const {
    const auto put = c.troupe({"data", "put", file, "--name", name});
    BOOST_TEST_REQUIRE(put.exit_code == 0, put.err);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(predict_jobs)

BOOST_FIXTURE_TEST_CASE(the_result_matches_the_models_forward_pass_row_for_row, predict_cluster) {
  const auto id = submit(predict_spec("txns", "txn-scores"));
  const auto ended = wait_until_ended(id);
  BOOST_TEST_REQUIRE(ended["state"] == "SUCCEEDED", ended.dump() + all_logs(id) + c.dump_logs());
  BOOST_TEST(ended["progress"] == (json{{"rows_done", rows}, {"rows_total", rows}}), ended.dump());
  const auto shown = c.troupe({"job", id}).out;
  BOOST_TEST(shown.find("progress: rows 3000/3000 (100%)") != std::string::npos, shown);

  const auto got = c.troupe({"data", "get", "txn-scores", c.root() + "/result.csv"});
  BOOST_TEST_REQUIRE(got.exit_code == 0, got.err);
  const auto checked = run_command({"/usr/bin/python3", rows_script(), "check", c.root()}, 120s);
  BOOST_TEST_REQUIRE(checked.exit_code == 0, checked.err);
  BOOST_TEST(checked.out == "ok\n");
  // The head assembled the result from the tasks' parts and removed them.
  const auto ls = c.troupe({"--json", "data", "ls", "--all"});
  BOOST_TEST_REQUIRE(ls.exit_code == 0, ls.err);
  std::set<std::string> names;
  for (const auto& a : json::parse(ls.out))
    if (a["kind"] == "dataset") names.insert(a["name"].get<std::string>());
  BOOST_TEST((names == std::set<std::string>{"txns", "txn-scores"}), ls.out);
}

BOOST_FIXTURE_TEST_CASE(a_bad_row_fails_the_job_with_its_line_and_id_named, predict_cluster) {
  std::ifstream in(c.root() + "/rows.csv");
  std::ofstream out(c.root() + "/bad.csv");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    out << (n == 2801 ? "t02799,1,2,nan,4,5,6" : line) << "\n";  // line 2801: row 2799
  out.close();
  put(c.root() + "/bad.csv", "bad-txns");
  const auto id = submit(predict_spec("bad-txns", "bad-scores"));
  const auto ended = wait_until_ended(id);
  BOOST_TEST_REQUIRE(ended["state"] == "FAILED", ended.dump());
  const auto why = "line 2801 (id 't02799'): column 'f2' is not a finite number: 'nan'";
  BOOST_TEST(ended["reason"] == "task 1: exit code 1: troupe-predict: " + std::string(why),
             ended.dump());
  BOOST_TEST(logs(id, 1).find(why) != std::string::npos, logs(id, 1));
  BOOST_TEST(c.troupe({"data", "get", "bad-scores", c.root() + "/none.csv"}).exit_code != 0);
}

BOOST_AUTO_TEST_SUITE_END()
