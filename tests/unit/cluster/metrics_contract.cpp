// The store contract for the metrics area (see store_contract.hpp): step and epoch rows load
// back with every field, in seq order and by page, each job apart; only a job's newest steps are
// kept, with every epoch; a batch written again changes nothing; a store of the models schema is
// migrated, and failures name the table.
#include <limits>

#include "store_contract.hpp"

namespace troupe::store::test {
namespace {

metric_record step_row(const std::string& job_id, uint64_t seq) {
  metric_record r;
  r.job_id = job_id;
  r.seq = seq;
  r.attempt_id = job_id + ".0.1";
  r.kind = "step";
  r.epoch = 2;
  r.step = 100 + seq;
  r.loss = 0.1 * static_cast<double>(seq);
  r.learning_rate = 0.05;
  r.samples_per_second = 98'765.4321;
  r.at_ms = 1'796'000'000'000 + static_cast<int64_t>(seq);
  return r;
}

metric_record epoch_row(const std::string& job_id, uint64_t seq) {
  metric_record r;
  r.job_id = job_id;
  r.seq = seq;
  r.attempt_id = job_id + ".1.2";
  r.kind = "epoch";
  r.epoch = 3;
  r.loss = 0.4321;
  r.val_loss = 0.5;
  r.val_accuracy = 0.875;
  r.at_ms = 1'796'000'000'999;
  return r;
}

void check_same(const metric_record& actual, const metric_record& expected) {
  BOOST_TEST_CONTEXT("metric " << expected.job_id << "/" << expected.seq) {
    BOOST_TEST(actual.job_id == expected.job_id);
    BOOST_TEST(actual.seq == expected.seq);
    BOOST_TEST(actual.attempt_id == expected.attempt_id);
    BOOST_TEST(actual.kind == expected.kind);
    BOOST_TEST(actual.epoch == expected.epoch);
    BOOST_TEST(actual.step == expected.step);
    BOOST_TEST(actual.loss == expected.loss);
    BOOST_TEST(actual.learning_rate == expected.learning_rate);
    BOOST_TEST(actual.samples_per_second == expected.samples_per_second);
    BOOST_TEST((actual.val_loss == expected.val_loss));
    BOOST_TEST((actual.val_accuracy == expected.val_accuracy));
    BOOST_TEST((actual.val_mae == expected.val_mae));
    BOOST_TEST(actual.at_ms == expected.at_ms);
  }
}

std::vector<uint64_t> seqs_of(const std::vector<metric_record>& rows) {
  std::vector<uint64_t> seqs;
  for (const auto& r : rows) seqs.push_back(r.seq);
  return seqs;
}

constexpr uint64_t keep_all = 1'000'000;

}  // namespace

namespace contract {

void a_new_store_has_no_metrics(backend& b) {
  auto store = open_store(b.url());
  BOOST_TEST(store->metrics().load_metrics("j1", 0, 100).empty());
  BOOST_TEST(store->metrics().last_metric_seq("j1") == 0u);
}

void stored_metrics_load_back_with_every_field(backend& b) {
  auto store = open_store(b.url());
  auto typical = step_row("j1", 1);
  auto extreme = step_row("j1", 2);
  extreme.attempt_id = "naïve/名前 'quoted' \"x\"";
  extreme.epoch = std::numeric_limits<uint32_t>::max();
  extreme.step = std::numeric_limits<uint64_t>::max();
  extreme.loss = std::numeric_limits<double>::max();
  extreme.learning_rate = std::numeric_limits<double>::denorm_min();
  extreme.samples_per_second = -1.0 / 3.0;
  extreme.at_ms = std::numeric_limits<int64_t>::min();
  auto validated = epoch_row("j1", 3);
  auto regression = epoch_row("j1", 4);
  regression.val_accuracy.reset();
  regression.val_mae = 1e-300;
  auto unvalidated = epoch_row("j1", 5);
  unvalidated.val_loss.reset();
  unvalidated.val_accuracy.reset();
  store->metrics().append_metrics({typical, extreme, validated, regression, unvalidated}, keep_all);

  const auto loaded = open_store(b.url())->metrics().load_metrics("j1", 0, 100);
  BOOST_TEST_REQUIRE(loaded.size() == 5u);
  check_same(loaded[0], typical);
  check_same(loaded[1], extreme);
  check_same(loaded[2], validated);
  check_same(loaded[3], regression);
  check_same(loaded[4], unvalidated);
  BOOST_TEST(store->metrics().last_metric_seq("j1") == 5u);
}

void metrics_load_by_seq_in_pages_and_each_job_apart(backend& b) {
  auto store = open_store(b.url());
  // Out of order across two batches, interleaved with another job's.
  store->metrics().append_metrics({step_row("j1", 3), step_row("j2", 1), epoch_row("j1", 1)},
                                  keep_all);
  store->metrics().append_metrics({step_row("j1", 2), step_row("j1", 4)}, keep_all);
  auto& metrics = store->metrics();
  BOOST_TEST(seqs_of(metrics.load_metrics("j1", 0, 100)) == (std::vector<uint64_t>{1, 2, 3, 4}),
             boost::test_tools::per_element());
  BOOST_TEST(seqs_of(metrics.load_metrics("j1", 1, 2)) == (std::vector<uint64_t>{2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(metrics.load_metrics("j1", 4, 100).empty());
  BOOST_TEST(seqs_of(metrics.load_metrics("j2", 0, 100)) == (std::vector<uint64_t>{1}),
             boost::test_tools::per_element());
  BOOST_TEST(metrics.last_metric_seq("j1") == 4u);
  BOOST_TEST(metrics.last_metric_seq("j2") == 1u);
}

void only_the_newest_steps_of_a_job_are_kept_with_every_epoch(backend& b) {
  auto store = open_store(b.url());
  auto& metrics = store->metrics();
  // Steps 1-4, epoch 5, steps 6-8, epoch 9, steps 10-11, in three batches, keeping 3 steps.
  std::vector<metric_record> first, second, third;
  for (uint64_t seq : {1, 2, 3, 4}) first.push_back(step_row("j1", seq));
  first.push_back(epoch_row("j1", 5));
  for (uint64_t seq : {6, 7, 8}) second.push_back(step_row("j1", seq));
  second.push_back(epoch_row("j1", 9));
  for (uint64_t seq : {10, 11}) third.push_back(step_row("j1", seq));
  metrics.append_metrics({step_row("j2", 1), step_row("j2", 2)}, 3);
  metrics.append_metrics(first, 3);
  BOOST_TEST(seqs_of(metrics.load_metrics("j1", 0, 100)) == (std::vector<uint64_t>{2, 3, 4, 5}),
             boost::test_tools::per_element());
  metrics.append_metrics(second, 3);
  metrics.append_metrics(third, 3);
  BOOST_TEST(
      seqs_of(metrics.load_metrics("j1", 0, 100)) == (std::vector<uint64_t>{5, 8, 9, 10, 11}),
      boost::test_tools::per_element());
  BOOST_TEST(seqs_of(metrics.load_metrics("j2", 0, 100)) == (std::vector<uint64_t>{1, 2}),
             boost::test_tools::per_element());
}

void writing_a_batch_of_metrics_again_changes_nothing(backend& b) {
  auto store = open_store(b.url());
  const std::vector<metric_record> batch{step_row("j1", 1), epoch_row("j1", 2)};
  store->metrics().append_metrics(batch, keep_all);
  auto again = batch;
  for (auto& r : again) r.loss = 99;
  store->metrics().append_metrics(again, keep_all);
  const auto loaded = store->metrics().load_metrics("j1", 0, 100);
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  check_same(loaded[0], batch[0]);
  check_same(loaded[1], batch[1]);
}

void a_store_of_the_models_schema_gets_the_metrics_table_and_keeps_its_nodes(backend& b) {
  create_schema_up_to(b, 4);
  b.execute(
      "INSERT INTO nodes VALUES ('n1', 'box', 1, 'alive', '0', '[]', '{}', '{}', '0.1.0', 1, 2)");
  auto store = open_store(b.url());
  BOOST_TEST(b.applied_migrations() == all_versions(), boost::test_tools::per_element());
  BOOST_TEST(store->membership().load_nodes().size() == 1u);
  store->metrics().append_metrics({step_row("j1", 1)}, keep_all);
  BOOST_TEST(open_store(b.url())->metrics().load_metrics("j1", 0, 100).size() == 1u);
}

void a_failed_metrics_call_gives_a_store_error_naming_the_table(backend& b) {
  auto store = open_store(b.url());
  b.drop_table("job_metrics");
  expect_store_error(b, "append_metrics", "job_metrics",
                     [&] { store->metrics().append_metrics({step_row("j1", 1)}, 5); });
  expect_store_error(b, "load_metrics", "job_metrics",
                     [&] { store->metrics().load_metrics("j1", 0, 100); });
  expect_store_error(b, "last_metric_seq", "job_metrics",
                     [&] { store->metrics().last_metric_seq("j1"); });
}

}  // namespace contract
}  // namespace troupe::store::test
