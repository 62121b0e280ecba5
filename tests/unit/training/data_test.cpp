#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "cluster/training/dataset.hpp"
#include "cluster/training/distributed_sampler.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace troupe;
using namespace troupe::training;
using troupe::test::temp_dir;

namespace {

train_spec csv_spec(task_kind task = task_kind::classification) {
  train_spec spec;
  spec.task = task;
  spec.data.dataset = "txn";
  spec.data.label = "category";
  return spec;
}

std::string refusal(const train_spec& spec, const data_files& files) {
  auto loaded = load_training_data(spec, files);
  BOOST_REQUIRE(std::holds_alternative<msg::error>(loaded));
  BOOST_TEST((std::get<msg::error>(loaded).code == msg::error_code::invalid_request));
  return std::get<msg::error>(loaded).message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(csv_data)

BOOST_AUTO_TEST_CASE(a_non_numeric_value_is_refused_naming_its_row_and_column) {
  temp_dir dir;
  const auto file = dir.file("t.csv", "amount,hour,category\n1.5,3,food\n2.0,x7,rent\n");
  BOOST_TEST(refusal(csv_spec(), {file, ""}) ==
             "dataset \"txn\": row 2, column \"hour\": \"x7\" is not a number");
}

BOOST_AUTO_TEST_CASE(a_missing_value_is_refused_naming_its_row_and_column) {
  temp_dir dir;
  const auto file = dir.file("t.csv", "amount,hour,category\n1.5,3,food\n2.0,4,rent\n,5,food\n");
  BOOST_TEST(refusal(csv_spec(), {file, ""}) ==
             "dataset \"txn\": row 3, column \"amount\": a missing value");
}

BOOST_AUTO_TEST_CASE(a_missing_label_is_refused_naming_its_row_and_column) {
  temp_dir dir;
  const auto file = dir.file("t.csv", "amount,hour,category\n1.5,3,\n");
  BOOST_TEST(refusal(csv_spec(), {file, ""}) ==
             "dataset \"txn\": row 1, column \"category\": a missing value");
}

BOOST_AUTO_TEST_CASE(a_non_numeric_regression_target_is_refused_naming_its_row_and_column) {
  temp_dir dir;
  const auto file = dir.file("t.csv", "amount,category\n1.5,2.5\n2.5,lots\n");
  BOOST_TEST(refusal(csv_spec(task_kind::regression), {file, ""}) ==
             "dataset \"txn\": row 2, column \"category\": \"lots\" is not a number");
}

BOOST_AUTO_TEST_CASE(a_row_with_too_few_values_is_refused_naming_it) {
  temp_dir dir;
  const auto file = dir.file("t.csv", "amount,hour,category\n1.5,3,food\n2.0,rent\n");
  BOOST_TEST(refusal(csv_spec(), {file, ""}) ==
             "dataset \"txn\": row 2 has 2 values, the header has 3 columns");
}

BOOST_AUTO_TEST_CASE(an_unknown_label_or_feature_column_is_refused_naming_the_field) {
  temp_dir dir;
  const auto file = dir.file("t.csv", "amount,hour,category\n1.5,3,food\n");
  auto spec = csv_spec();
  spec.data.label = "kind";
  BOOST_TEST(refusal(spec, {file, ""}) == "data.label: dataset \"txn\" has no column \"kind\"");
  spec = csv_spec();
  spec.data.features = {"amount", "minute"};
  BOOST_TEST(refusal(spec, {file, ""}) ==
             "data.features: dataset \"txn\" has no column \"minute\"");
}

BOOST_AUTO_TEST_CASE(a_validation_class_unknown_to_the_training_data_is_refused_naming_its_row) {
  temp_dir dir;
  const auto train = dir.file("t.csv", "amount,category\n1,food\n2,rent\n");
  const auto validation = dir.file("v.csv", "amount,category\n1,food\n2,travel\n");
  auto spec = csv_spec();
  spec.data.validation_dataset = "txn-val";
  BOOST_TEST(refusal(spec, {train, validation}) ==
             "dataset \"txn-val\": row 2, column \"category\": class \"travel\" is not in the "
             "training data");
}

BOOST_AUTO_TEST_CASE(listed_features_are_read_in_their_order_and_classes_sort_numerically) {
  temp_dir dir;
  const auto file = dir.file(
      "t.csv", "id,amount,\"hour, local\",category\r\n1,10,3,10\r\n2,20,4,2\r\n3,30,5,2\r\n");
  auto spec = csv_spec();
  spec.data.features = {"hour, local", "amount"};
  auto loaded = load_training_data(spec, {file, ""});
  BOOST_REQUIRE(std::holds_alternative<training_data>(loaded));
  const auto& data = std::get<training_data>(loaded);
  BOOST_TEST(data.train.feature_names == (std::vector<std::string>{"hour, local", "amount"}));
  BOOST_TEST(data.classes == (std::vector<std::string>{"2", "10"}));
  BOOST_TEST(data.train.rows == 3);
  BOOST_TEST(data.validation.rows == 0);
  BOOST_TEST(data.fingerprint.size() == 64u);
  // Standardisation from the training rows: amount 10, 20, 30.
  BOOST_TEST(data.stats.mean[1] == 20.0f);
  BOOST_TEST(std::abs(data.stats.std[1] - std::sqrt(200.0f / 3.0f)) < 1e-4f);
}

BOOST_AUTO_TEST_CASE(a_validation_split_takes_that_share_of_the_rows_the_same_way_each_time) {
  auto spec = csv_spec();
  spec.data.synthetic = synthetic_data{1000, 4, 3, 5};
  spec.data.validation_split = 0.1;
  spec.seed = 9;
  auto a = std::get<training_data>(load_training_data(spec, {}));
  auto b = std::get<training_data>(load_training_data(spec, {}));
  BOOST_TEST(a.train.rows == 900);
  BOOST_TEST(a.validation.rows == 100);
  BOOST_TEST(a.validation.features == b.validation.features);
  BOOST_TEST(a.fingerprint == b.fingerprint);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(distributed_sampler)

BOOST_AUTO_TEST_CASE(shards_are_equal_sized_and_disjoint_except_for_the_padding) {
  const int64_t rows = 103, world = 4;
  std::multiset<int64_t> all;
  for (int64_t rank = 0; rank < world; ++rank) {
    const auto shard = shard_rows(rows, rank, world, 42, 0);
    BOOST_TEST(shard.size() == 26u);  // ceil(103 / 4)
    all.insert(shard.begin(), shard.end());
  }
  std::set<int64_t> distinct(all.begin(), all.end());
  BOOST_TEST(distinct.size() == static_cast<size_t>(rows));  // every row, once...
  BOOST_TEST(all.size() - distinct.size() == 1u);            // ...and 104 - 103 repeated
  BOOST_TEST(*distinct.begin() == 0);
  BOOST_TEST(*distinct.rbegin() == rows - 1);
}

BOOST_AUTO_TEST_CASE(shards_reshuffle_each_epoch_and_repeat_for_the_same_epoch) {
  const auto epoch0 = shard_rows(1000, 1, 2, 42, 0);
  BOOST_TEST(shard_rows(1000, 1, 2, 42, 0) == epoch0);
  const auto epoch1 = shard_rows(1000, 1, 2, 42, 1);
  BOOST_TEST(epoch1 != epoch0);
  BOOST_TEST(shard_rows(1000, 1, 2, 43, 0) != epoch0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(synthetic_data_generator)

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_rows_and_classes_are_all_present) {
  const synthetic_data spec{2000, 8, 5, 3};
  const auto a = synthesize(spec), b = synthesize(spec);
  BOOST_TEST(a.features == b.features);
  BOOST_TEST(a.labels == b.labels);
  BOOST_TEST(a.rows == 2000);
  BOOST_TEST(a.features.size() == 2000u * 8u);
  const std::set<float> classes(a.labels.begin(), a.labels.end());
  BOOST_TEST(classes.size() == 5u);
  BOOST_TEST(synthesize({2000, 8, 5, 4}).features != a.features);
}

BOOST_AUTO_TEST_SUITE_END()
