// Predict jobs end to end with real daemons on loopback: a head without a node agent and two
// one-CPU nodes. A small MLP scripted by Debian's python3-torch is imported with `troupe model
// register`, a CSV of a few thousand rows is put with `troupe data put`, and a predict job of two
// tasks scores it (one troupe-predict per node). The result fetched with `troupe data get` equals
// PyTorch's own forward pass row for row, in input order (assembled on the head from the tasks'
// parts, which are gone afterwards); its progress reached every row. A bad row fails the job,
// its line and id named in the job's reason. A dataset of several pieces per task (each task
// fetches its share 8 MiB at a time while it scores) is scored whole, in order, a line that two
// pieces share included, and a bad row in a later piece is named by its line in the file.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>

#include "tests/integration/rank_cluster.hpp"

using namespace troupe::local;
using nlohmann::json;

namespace {

constexpr int rows = 3000;
// Rows of about 125 bytes: a share of over 8 MiB for each of two tasks.
constexpr int rows_of_pieces = 150000;

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
  explicit predict_cluster(int count = rows) : rank_cluster(1, 180s) {
    const auto made = run_command(
        {"/usr/bin/python3", rows_script(), "make", c.root(), std::to_string(count)}, 120s);
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

  // Scores the dataset `name` into `output` and fetches it as result.csv; the job.
  json scored(const std::string& name, const std::string& output) const {
    const auto id = submit(predict_spec(name, output));
    const auto ended = wait_until_ended(id);
    BOOST_TEST_REQUIRE(ended["state"] == "SUCCEEDED", ended.dump() + all_logs(id) + c.dump_logs());
    const auto got = c.troupe({"data", "get", output, c.root() + "/result.csv"});
    BOOST_TEST_REQUIRE(got.exit_code == 0, got.err);
    return ended;
  }

  // PyTorch's verdict on result.csv: "ok\n" when it matches the forward pass row for row.
  std::string checked() const {
    const auto out = run_command({"/usr/bin/python3", rows_script(), "check", c.root()}, 120s);
    BOOST_TEST_REQUIRE(out.exit_code == 0, out.err);
    return out.out;
  }

  // rows.csv with line `bad` (a row of `count`) holding a NaN, put as `name`.
  void put_with_a_nan(int count, int bad, const std::string& name) const {
    BOOST_TEST_REQUIRE(bad <= count + 1);
    std::ifstream in(c.root() + "/rows.csv");
    std::ofstream out(c.root() + "/bad.csv");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      out << (n == bad ? id_of(bad - 2) + ",1,2,nan,4,5,6" : line) << "\n";
    out.close();
    put(c.root() + "/bad.csv", name);
  }

  static std::string id_of(int row) {
    char id[16];
    std::snprintf(id, sizeof id, "t%05d", row);
    return id;
  }

  // The job's reason when line `bad` of put_with_a_nan fails task `task`.
  static std::string nan_reason(int task, int bad) {
    return "task " + std::to_string(task) + ": exit code 1: troupe-predict: line " +
           std::to_string(bad) + " (id '" + id_of(bad - 2) +
           "'): column 'f2' is not a finite number: 'nan'";
  }
};

struct predict_cluster_of_pieces : predict_cluster {
  predict_cluster_of_pieces() : predict_cluster(rows_of_pieces) {}
};

}  // namespace

BOOST_AUTO_TEST_SUITE(predict_jobs)

BOOST_FIXTURE_TEST_CASE(the_result_matches_the_models_forward_pass_row_for_row, predict_cluster) {
  const auto ended = scored("txns", "txn-scores");
  BOOST_TEST(ended["progress"] == (json{{"rows_done", rows}, {"rows_total", rows}}), ended.dump());
  const auto shown = c.troupe({"job", ended["id"].get<std::string>()}).out;
  BOOST_TEST(shown.find("progress: rows 3000/3000 (100%)") != std::string::npos, shown);
  BOOST_TEST(checked() == "ok\n");
  // The head assembled the result from the tasks' parts and removed them.
  const auto ls = c.troupe({"--json", "data", "ls", "--all"});
  BOOST_TEST_REQUIRE(ls.exit_code == 0, ls.err);
  std::set<std::string> names;
  for (const auto& a : json::parse(ls.out))
    if (a["kind"] == "dataset") names.insert(a["name"].get<std::string>());
  BOOST_TEST((names == std::set<std::string>{"txns", "txn-scores"}), ls.out);
}

BOOST_FIXTURE_TEST_CASE(a_bad_row_fails_the_job_with_its_line_and_id_named, predict_cluster) {
  put_with_a_nan(rows, 2801, "bad-txns");  // line 2801: row 2799, task 1's
  const auto id = submit(predict_spec("bad-txns", "bad-scores"));
  const auto ended = wait_until_ended(id);
  BOOST_TEST_REQUIRE(ended["state"] == "FAILED", ended.dump());
  BOOST_TEST(ended["reason"] == nan_reason(1, 2801), ended.dump());
  BOOST_TEST(logs(id, 1).find("line 2801 (id 't02799')") != std::string::npos, logs(id, 1));
  BOOST_TEST(c.troupe({"data", "get", "bad-scores", c.root() + "/none.csv"}).exit_code != 0);
}

BOOST_FIXTURE_TEST_CASE(a_share_of_several_pieces_is_scored_whole_and_its_lines_named,
                        predict_cluster_of_pieces) {
  const auto ended = scored("txns", "txn-scores");
  BOOST_TEST(
      ended["progress"] == (json{{"rows_done", rows_of_pieces}, {"rows_total", rows_of_pieces}}),
      ended.dump());
  BOOST_TEST(checked() == "ok\n");
  // The file's last line: in task 1's second piece.
  put_with_a_nan(rows_of_pieces, rows_of_pieces + 1, "bad-txns");
  const auto failed = wait_until_ended(submit(predict_spec("bad-txns", "bad-scores")));
  BOOST_TEST_REQUIRE(failed["state"] == "FAILED", failed.dump());
  BOOST_TEST(failed["reason"] == nan_reason(1, rows_of_pieces + 1), failed.dump());
}

BOOST_AUTO_TEST_SUITE_END()
