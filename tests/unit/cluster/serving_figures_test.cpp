// The serving figures of /metrics (cluster/metrics/serving_figures.hpp): replicas' reports become
// a histogram of rows per forward pass and a queue gauge per service and version, cache lookups
// counters per service; the text they serialize to is checked by promtool.
#define BOOST_TEST_MODULE serving_figures
#include <boost/test/unit_test.hpp>

#include <prometheus/text_serializer.h>

#include "cluster/metrics/serving_figures.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using metrics::replica_figures;

namespace {

const replica_figures::clock::time_point t0{};

struct exposition {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::string text() const { return prometheus::TextSerializer().Serialize(registry->Collect()); }
};

// One version's figures: passes by rows (the first entries of passesByRows), rows, queue.
msg::loaded_version loaded(uint32_t version, std::vector<uint64_t> passes, uint64_t rows,
                           uint32_t queue) {
  msg::loaded_version v;
  v.version = version;
  v.passes_by_rows = std::move(passes);
  v.rows_forwarded = rows;
  v.queue_depth = queue;
  return v;
}

// The value of the series `name` (with its labels as the text writes them); -1 when absent.
double series(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

std::string promtool_problems(const std::string& text) {
  test::temp_dir dir;
  const auto file = dir.file("metrics.txt", text);
  auto r = local::run_command({"/bin/sh", "-c", "promtool check metrics < " + file});
  return r.exit_code == 0 ? "" : r.out + r.err;
}

const std::string head_labels = R"(node="node-1",service="txn",version="3")";

}  // namespace

BOOST_AUTO_TEST_SUITE(serving_figures)

BOOST_AUTO_TEST_CASE(reports_become_a_histogram_of_pass_rows_and_a_queue_gauge_promtool_accepts) {
  exposition e;
  replica_figures head(e.registry, replica_figures::scope::head);
  // Replica a1: 2 passes of 1 row, 1 of 2 rows, 1 of 3 or 4 (4 rows); a2: 1 pass of 1 row.
  head.report("a1", "txn", "node-1", {loaded(3, {2, 1, 1}, 8, 2)}, t0);
  head.report("a2", "txn", "node-1", {loaded(3, {1}, 1, 1)}, t0);
  const auto text = e.text();
  BOOST_TEST(promtool_problems(text) == "");
  BOOST_TEST(series(text, "troupe_inference_batch_rows_count{" + head_labels + "}") == 5);
  BOOST_TEST(series(text, "troupe_inference_batch_rows_sum{" + head_labels + "}") == 9);
  BOOST_TEST(series(text, "troupe_inference_batch_rows_bucket{" + head_labels + R"(,le="1"})") ==
             3);
  BOOST_TEST(series(text, "troupe_inference_batch_rows_bucket{" + head_labels + R"(,le="2"})") ==
             4);
  BOOST_TEST(series(text, "troupe_inference_batch_rows_bucket{" + head_labels + R"(,le="4"})") ==
             5);
  BOOST_TEST(series(text, "troupe_inference_batch_rows_bucket{" + head_labels + R"(,le="4096"})") ==
             5);
  BOOST_TEST(series(text, "troupe_inference_queue_depth{" + head_labels + "}") == 3);
}

BOOST_AUTO_TEST_CASE(a_later_report_adds_what_is_new_and_a_reloaded_version_counts_from_zero) {
  exposition e;
  replica_figures head(e.registry, replica_figures::scope::head);
  head.report("a1", "txn", "node-1", {loaded(3, {2}, 2, 0)}, t0);
  head.report("a1", "txn", "node-1", {loaded(3, {5}, 5, 0)}, t0 + 1s);
  BOOST_TEST(series(e.text(), "troupe_inference_batch_rows_count{" + head_labels + "}") == 5);
  head.report("a1", "txn", "node-1", {loaded(3, {1}, 1, 0)}, t0 + 2s);  // loaded again
  BOOST_TEST(series(e.text(), "troupe_inference_batch_rows_count{" + head_labels + "}") == 6);
  BOOST_TEST(series(e.text(), "troupe_inference_batch_rows_sum{" + head_labels + "}") == 6);
}

BOOST_AUTO_TEST_CASE(a_silent_replica_or_a_dropped_version_leaves_the_queue_gauge) {
  exposition e;
  replica_figures head(e.registry, replica_figures::scope::head);
  head.report("a1", "txn", "node-1", {loaded(3, {1}, 1, 4), loaded(4, {}, 0, 1)}, t0);
  head.report("a2", "txn", "node-1", {loaded(3, {1}, 1, 2)}, t0 + 2s);
  const std::string v4 = R"(troupe_inference_queue_depth{node="node-1",service="txn",version="4"})";
  BOOST_TEST(series(e.text(), v4) == 1);
  head.report("a1", "txn", "node-1", {loaded(3, {1}, 1, 4)}, t0 + 1s);  // version 4 dropped
  BOOST_TEST(series(e.text(), v4) == -1);
  head.forget_silent(t0 + 4s);  // a1 last reported 3 s ago
  const auto text = e.text();
  BOOST_TEST(series(text, "troupe_inference_queue_depth{" + head_labels + "}") == 2);
  BOOST_TEST(series(text, "troupe_inference_batch_rows_count{" + head_labels + "}") == 2);
  BOOST_TEST(promtool_problems(text) == "");
}

BOOST_AUTO_TEST_CASE(a_nodes_figures_are_labelled_by_service_and_version_only) {
  exposition e;
  replica_figures node(e.registry, replica_figures::scope::node);
  node.report("a1", "txn", "ignored", {loaded(3, {0, 0, 0, 0, 0, 0, 1}, 64, 5)}, t0);
  const auto text = e.text();
  const std::string labels = R"(service="txn",version="3")";
  BOOST_TEST(series(text, "troupe_node_replica_queue_depth{" + labels + "}") == 5);
  BOOST_TEST(series(text, "troupe_node_replica_batch_rows_bucket{" + labels + R"(,le="32"})") == 0);
  BOOST_TEST(series(text, "troupe_node_replica_batch_rows_bucket{" + labels + R"(,le="64"})") == 1);
  BOOST_TEST(promtool_problems(text) == "");
}

BOOST_AUTO_TEST_CASE(cache_lookups_are_counted_as_hits_and_misses_per_service) {
  exposition e;
  metrics::cache_counters cache(e.registry);
  cache.lookup("txn", false);
  cache.lookup("txn", true);
  cache.lookup("txn", true);
  const auto text = e.text();
  BOOST_TEST(series(text, R"(troupe_inference_cache_hits_total{service="txn"})") == 2);
  BOOST_TEST(series(text, R"(troupe_inference_cache_misses_total{service="txn"})") == 1);
  BOOST_TEST(promtool_problems(text) == "");
}

BOOST_AUTO_TEST_SUITE_END()
