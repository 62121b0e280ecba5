// The head's record of train jobs' metrics (actors/training/metrics_log.hpp) over a real SQLite
// store behind the fault seam: numbering across a restart, group commit, failed writes kept and
// retried, and the bound on what waits.
#include <boost/test/unit_test.hpp>

#include "actors/training/metrics_log.hpp"
#include "cluster/store/faulty_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace troupe::training {
namespace {

using mode = store::faulty_store::mode;

msg::metrics_report report(const std::string& attempt, std::vector<uint64_t> steps,
                           std::vector<uint32_t> epochs = {}) {
  msg::metrics_report r{attempt, {}, {}};
  for (auto step : steps) r.steps.push_back({1, step, 0.5, 0.05, 1000, 1'796'000'000'000});
  for (auto epoch : epochs) r.epochs.push_back({epoch, 0.25, 0.3, 0.9, std::nullopt, 1});
  return r;
}

// "s<step>" or "e<epoch>" per entry, with its seq: "1:s10 2:e1".
std::string shown(const std::vector<msg::metric_entry>& entries) {
  std::string text;
  for (const auto& e : entries) {
    text += (text.empty() ? "" : " ") + std::to_string(e.seq) + ":";
    if (const auto* s = std::get_if<msg::step_metric>(&e.metric))
      text += "s" + std::to_string(s->step);
    else
      text += "e" + std::to_string(std::get<msg::epoch_metric>(e.metric).epoch);
  }
  return text;
}

struct fixture {
  test::temp_dir dir{"troupe-metrics-log"};
  std::string url = "sqlite://" + dir.path() + "/troupe.db";
  std::shared_ptr<store::faulty_store> faults =
      std::make_shared<store::faulty_store>(store::open_store(url));
};

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_log_entries)

BOOST_FIXTURE_TEST_CASE(entries_read_back_from_a_new_log_and_numbering_goes_on_after_them,
                        fixture) {
  {
    metrics_log log(faults->metrics(), 100);
    log.add("j1", report("j1.0.1", {10, 20}));
    log.add("j2", report("j2.0.1", {5}));
    log.add("j1", report("j1.1.1", {20}, {1}));
    BOOST_TEST(shown(log.read("j1", 0, 100)) == "1:s10 2:s20 3:s20 4:e1");  // still queued
    log.flush();
    BOOST_TEST(log.queued() == 0u);
  }
  auto reopened = store::open_store(url);  // a restarted head
  metrics_log log(reopened->metrics(), 100);
  BOOST_TEST(shown(log.read("j1", 0, 100)) == "1:s10 2:s20 3:s20 4:e1");
  BOOST_TEST(shown(log.read("j1", 2, 1)) == "3:s20");
  log.add("j1", report("j1.0.2", {30}));
  BOOST_TEST(shown(log.read("j1", 3, 100)) == "4:e1 5:s30");
  BOOST_TEST(shown(log.read("j2", 0, 100)) == "1:s5");
}

BOOST_FIXTURE_TEST_CASE(one_flush_stores_every_jobs_entries_in_one_transaction, fixture) {
  metrics_log log(faults->metrics(), 100);
  for (int i = 0; i < 10; ++i) log.add(i % 2 ? "j1" : "j2", report("a", {uint64_t(i)}));
  log.flush();
  BOOST_TEST(faults->landed_batches() == 1u);
  BOOST_TEST(log.read("j1", 0, 100).size() == 5u);
  BOOST_TEST(log.read("j2", 0, 100).size() == 5u);
  log.flush();  // nothing queued: no transaction
  BOOST_TEST(faults->landed_batches() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_failed_flush_keeps_every_entry_for_the_next_one, fixture) {
  metrics_log log(faults->metrics(), 100);
  log.add("j1", report("j1.0.1", {1, 2}));
  log.flush();
  faults->set(mode::failing);
  log.add("j1", report("j1.0.1", {3}, {1}));
  BOOST_CHECK_THROW(log.flush(), store::store_error);
  BOOST_CHECK_THROW(log.read("j1", 0, 100), store::store_error);
  log.add("j1", report("j1.0.1", {4}));
  BOOST_CHECK_THROW(log.flush(), store::store_error);
  BOOST_TEST(log.queued() == 3u);
  faults->set(mode::working);
  log.flush();
  BOOST_TEST(log.queued() == 0u);
  auto reopened = store::open_store(url);
  BOOST_TEST(shown(metrics_log(reopened->metrics(), 100).read("j1", 0, 100)) ==
             "1:s1 2:s2 3:s3 4:e1 5:s4");
}

BOOST_FIXTURE_TEST_CASE(a_log_that_cannot_ask_where_numbering_stands_numbers_once_it_can, fixture) {
  {
    metrics_log first(faults->metrics(), 100);
    first.add("j1", report("j1.0.1", {1, 2}));
    first.flush();
  }
  faults->set(mode::failing);
  metrics_log log(faults->metrics(), 100);  // a head restarted while the store is down
  log.add("j1", report("j1.0.2", {3}));
  BOOST_CHECK_THROW(log.flush(), store::store_error);
  faults->set(mode::working);
  log.flush();
  BOOST_TEST(shown(log.read("j1", 0, 100)) == "1:s1 2:s2 3:s3");
}

BOOST_FIXTURE_TEST_CASE(while_the_store_is_down_a_job_keeps_its_newest_steps_and_every_epoch,
                        fixture) {
  metrics_log log(faults->metrics(), 3);
  faults->set(mode::failing);
  log.add("j1", report("j1.0.1", {1, 2, 3, 4}, {1}));
  log.add("j1", report("j1.0.1", {5, 6}, {2}));
  BOOST_TEST(log.queued() == 5u);  // steps 4, 5, 6 and both epochs
  faults->set(mode::working);
  log.flush();
  BOOST_TEST(shown(log.read("j1", 0, 100)) == "1:s4 2:e1 3:s5 4:s6 5:e2");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::training
