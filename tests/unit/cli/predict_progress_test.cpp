// What `troupe job ID` and `troupe submit --wait` show of a predict job: its rows done out of its
// rows, from the latest attempt of each task.
#include <boost/test/unit_test.hpp>

#include "cluster/jobs/job_ids.hpp"
#include "tools/cli/commands/predict_progress.hpp"

using namespace troupe;
using troupe::cli::predict_progress;

namespace {

msg::metric_entry rows_of(uint32_t task, uint32_t attempt, uint64_t done, uint64_t total,
                          double per_second = 1000) {
  msg::metric_entry e;
  e.attempt_id = jobs::attempt_id("j00000000000000aa", task, attempt);
  e.metric = msg::step_metric{0, done, static_cast<double>(total), 0, per_second, 0};
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(predict_progress_text)

BOOST_AUTO_TEST_CASE(nothing_is_shown_before_a_task_reported) {
  BOOST_TEST(predict_progress(2).text() == "");
}

BOOST_AUTO_TEST_CASE(the_total_is_known_once_every_task_reported_its_shard) {
  predict_progress p(2);
  p.add(rows_of(0, 1, 500, 1500));
  BOOST_TEST(p.rows_done() == 500u);
  BOOST_TEST(!p.rows_total());
  BOOST_TEST(p.text() == "rows 500/?  1000 rows/s  ETA -");
  p.add(rows_of(1, 1, 700, 1500));
  BOOST_TEST(p.rows_done() == 1200u);
  BOOST_TEST(*p.rows_total() == 3000u);
  BOOST_TEST(p.text() == "rows 1200/3000 (40%)  2000 rows/s  ETA 0.9s");
}

BOOST_AUTO_TEST_CASE(a_retried_task_counts_from_its_new_attempt_and_never_an_older_one) {
  predict_progress p(1);
  p.add(rows_of(0, 1, 900, 1000));
  p.add(rows_of(0, 2, 100, 1000));
  p.add(rows_of(0, 1, 950, 1000));  // a late report of the first attempt
  BOOST_TEST(p.rows_done() == 100u);
}

BOOST_AUTO_TEST_SUITE_END()
