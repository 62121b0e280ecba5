#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cluster/inference/serve_spec.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/jobs/kinds/predict/predict_spec.hpp"
#include "cluster/training/train_spec.hpp"

using namespace troupe::jobs;

namespace {

std::filesystem::path source_dir() {
  const char* source = std::getenv("TROUPE_SOURCE_DIR");
  BOOST_TEST_REQUIRE(source, "TROUPE_SOURCE_DIR must name the source tree (CTest sets it)");
  return source;
}

std::filesystem::path examples_dir() { return source_dir() / "docs" / "examples"; }

job_spec parse_example(const std::string& name) {
  std::ifstream in(examples_dir() / name);
  BOOST_TEST_REQUIRE(in.good(), "cannot read docs/examples/" << name);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_job_spec(text.str());
}

troupe::training::train_spec train_example(const std::string& name) {
  const auto spec = parse_example(name);
  BOOST_TEST_REQUIRE(spec.kind == "train");
  return troupe::training::train_spec_from_json(spec.kind_fields);
}

// What the demo data generator writes with these arguments.
std::string generated_transactions(const std::string& arguments) {
  const auto command = "/usr/bin/python3 " +
                       (source_dir() / "tools" / "demo_data" / "transactions.py").string() + " " +
                       arguments;
  FILE* out = ::popen(command.c_str(), "r");
  BOOST_TEST_REQUIRE(out);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
  BOOST_TEST_REQUIRE(::pclose(out) == 0, command << " failed");
  return text;
}

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> parts;
  std::istringstream in(line);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(example_specs)

BOOST_AUTO_TEST_CASE(every_example_spec_parses_and_round_trips) {
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    BOOST_TEST_CONTEXT(entry.path().filename()) {
      const auto spec = parse_example(entry.path().filename());
      BOOST_TEST((parse_job_spec(to_json(spec)) == spec));
    }
  }
}

BOOST_AUTO_TEST_CASE(hello_runs_one_task_once) {
  const auto spec = parse_example("hello.yaml");
  BOOST_TEST(spec.tasks == 1u);
  BOOST_TEST(spec.retries.max == 0u);
}

BOOST_AUTO_TEST_CASE(retry_may_be_retried) {
  BOOST_TEST(parse_example("retry.yaml").retries.max >= 1u);
}

BOOST_AUTO_TEST_CASE(gang_ddp_runs_the_allreduce_script_in_2_tasks) {
  const auto spec = parse_example("gang-ddp.yaml");
  BOOST_TEST(spec.tasks == 2u);
  BOOST_TEST(spec.kind_fields["argv"] ==
             nlohmann::json::parse(R"(["/usr/bin/python3", "allreduce.py"])"));
  BOOST_TEST(std::filesystem::exists(examples_dir() / "allreduce.py"));
}

BOOST_AUTO_TEST_CASE(train_mlp_is_the_issues_two_rank_example_on_the_demo_data) {
  const auto spec = parse_example("train-mlp.yaml");
  BOOST_TEST(spec.tasks == 2u);
  const auto train = train_example("train-mlp.yaml");
  BOOST_TEST(train.model.layers == (std::vector<int64_t>{64, 256, 256, 10}));
  BOOST_TEST(train.data.dataset == "txn-train");
  BOOST_TEST(train.data.label == "category");
  BOOST_TEST(train.model_name == "txn-category");
}

BOOST_AUTO_TEST_CASE(train_synthetic_is_the_benchmark_workload) {
  const auto train = train_example("train-synthetic.yaml");
  BOOST_TEST(train.world_size == 2);
  BOOST_TEST(train.model.layers == (std::vector<int64_t>{64, 256, 256, 10}));
  BOOST_TEST_REQUIRE(train.data.synthetic.has_value());
  BOOST_TEST(train.data.synthetic->rows == 200000);
  BOOST_TEST(train.batch_size == 256);
  BOOST_TEST(train.epochs == 1);
  BOOST_TEST(train.optimizer.lr == 0.05);
  BOOST_TEST(train.optimizer.momentum == 0.9);
}

BOOST_AUTO_TEST_CASE(train_torchscript_trains_the_module_txn_net_py_saves) {
  const auto train = train_example("train-torchscript.yaml");
  BOOST_TEST(train.model.type == "torchscript");
  BOOST_TEST(train.model.path == "txn-net.pt");
  BOOST_TEST(std::filesystem::exists(examples_dir() / "txn_net.py"));
}

BOOST_AUTO_TEST_CASE(serve_is_the_issues_service_of_two_replicas_with_an_ab_split) {
  const auto spec = parse_example("serve.yaml");
  BOOST_TEST(spec.kind == "serve");
  BOOST_TEST(spec.tasks == 2u);
  const auto serve = troupe::inference::serve_spec_from_json(spec.kind_fields);
  BOOST_TEST(serve.traffic.size() == 2u);
  BOOST_TEST(serve.batching.max_batch == 64u);
  BOOST_TEST(serve.auth.tokens_required);
}

BOOST_AUTO_TEST_CASE(predict_scores_a_dataset_with_the_production_version_in_two_shards) {
  const auto spec = parse_example("predict.yaml");
  BOOST_TEST(spec.kind == "predict");
  BOOST_TEST(spec.tasks == 2u);
  const auto predict = troupe::jobs::predict_spec_from_json(spec.kind_fields);
  BOOST_TEST(predict.model == "txn-category@production");
  BOOST_TEST(predict.output_dataset == "txn-scores");
}

BOOST_AUTO_TEST_CASE(the_demo_transactions_have_64_features_and_10_categories_from_their_seed) {
  const auto text = generated_transactions("--rows 400 --seed 3");
  BOOST_TEST(generated_transactions("--rows 400 --seed 3") == text);
  BOOST_TEST(generated_transactions("--rows 400 --seed 4") != text);
  const auto lines = split(text, '\n');
  BOOST_TEST_REQUIRE(lines.size() == 401u);
  const auto header = split(lines[0], ',');
  BOOST_TEST_REQUIRE(header.size() == 65u);
  BOOST_TEST(header.back() == "category");
  BOOST_TEST(std::set<std::string>(header.begin(), header.end()).size() == 65u);
  std::set<std::string> categories;
  for (size_t row = 1; row < lines.size(); ++row) {
    const auto values = split(lines[row], ',');
    BOOST_TEST_REQUIRE(values.size() == 65u, "row " << row);
    for (const auto& value : values) {
      size_t used = 0;
      const double number = std::stod(value, &used);
      BOOST_TEST_REQUIRE((used == value.size() && std::isfinite(number)),
                         "row " << row << ": " << value);
    }
    categories.insert(values.back());
  }
  BOOST_TEST(categories ==
             (std::set<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
}

BOOST_AUTO_TEST_SUITE_END()
