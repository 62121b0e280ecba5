// The head's response cache (cluster/inference/response_cache.hpp), on a clock the test moves.
#define BOOST_TEST_MODULE response_cache
#include <boost/test/unit_test.hpp>

#include "cluster/inference/response_cache.hpp"

using namespace troupe::inference;
using namespace std::chrono_literals;

namespace {

const response_cache::clock::time_point t0{};

prediction_result answer(uint32_t version, float value) {
  prediction_result r;
  r.model_name = "txn";
  r.model_version = version;
  r.rows = 1;
  r.output_count = 1;
  r.outputs = {value};
  return r;
}

float value_of(const std::optional<prediction_result>& r) { return r->outputs.at(0); }

}  // namespace

BOOST_AUTO_TEST_SUITE(response_cache)

BOOST_AUTO_TEST_CASE(a_repeated_request_is_answered_from_the_cache) {
  troupe::inference::response_cache cache({10, 60});
  BOOST_TEST(!cache.lookup(3, 2, {1, 2}, t0));
  cache.store(3, 2, {1, 2}, answer(3, 0.5f), t0);
  const auto hit = cache.lookup(3, 2, {1, 2}, t0 + 1s);
  BOOST_TEST_REQUIRE(hit.has_value());
  BOOST_TEST(value_of(hit) == 0.5f);
  BOOST_TEST(hit->model_version == 3u);
}

BOOST_AUTO_TEST_CASE(only_the_exact_features_of_the_same_version_and_shape_hit) {
  troupe::inference::response_cache cache({10, 60});
  cache.store(3, 2, {1, 2}, answer(3, 0.5f), t0);
  BOOST_TEST(!cache.lookup(4, 2, {1, 2}, t0));        // another version
  BOOST_TEST(!cache.lookup(3, 2, {1, 2.0001f}, t0));  // other features
  BOOST_TEST(!cache.lookup(3, 1, {1, 2}, t0));        // the same values as two rows
  BOOST_TEST(!cache.lookup(3, 2, {1, 2, 1, 2}, t0));  // more rows
  BOOST_TEST(cache.lookup(3, 2, {1, 2}, t0).has_value());
}

BOOST_AUTO_TEST_CASE(an_entry_older_than_the_ttl_is_a_miss_and_is_dropped) {
  troupe::inference::response_cache cache({10, 60});
  cache.store(3, 2, {1, 2}, answer(3, 0.5f), t0);
  BOOST_TEST(cache.lookup(3, 2, {1, 2}, t0 + 59s).has_value());
  BOOST_TEST(!cache.lookup(3, 2, {1, 2}, t0 + 60s));
  BOOST_TEST(cache.size() == 0u);
  // Storing it again starts its ttl again.
  cache.store(3, 2, {1, 2}, answer(3, 0.75f), t0 + 61s);
  BOOST_TEST(value_of(cache.lookup(3, 2, {1, 2}, t0 + 120s)) == 0.75f);
}

BOOST_AUTO_TEST_CASE(when_full_the_least_recently_used_entry_goes) {
  troupe::inference::response_cache cache({2, 60});
  cache.store(1, 1, {1}, answer(1, 1), t0);
  cache.store(1, 1, {2}, answer(1, 2), t0);
  BOOST_TEST(cache.lookup(1, 1, {1}, t0).has_value());  // {1} is now the most recently used
  cache.store(1, 1, {3}, answer(1, 3), t0);
  BOOST_TEST(cache.size() == 2u);
  BOOST_TEST(!cache.lookup(1, 1, {2}, t0));
  BOOST_TEST(value_of(cache.lookup(1, 1, {1}, t0)) == 1.0f);
  BOOST_TEST(value_of(cache.lookup(1, 1, {3}, t0)) == 3.0f);
}

BOOST_AUTO_TEST_CASE(storing_the_same_request_again_replaces_its_entry) {
  troupe::inference::response_cache cache({2, 60});
  cache.store(1, 1, {1}, answer(1, 1), t0);
  cache.store(1, 1, {1}, answer(1, 9), t0);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(value_of(cache.lookup(1, 1, {1}, t0)) == 9.0f);
}

BOOST_AUTO_TEST_CASE(the_entries_of_versions_no_longer_served_are_dropped) {
  troupe::inference::response_cache cache({10, 60});
  cache.store(1, 1, {1}, answer(1, 1), t0);
  cache.store(2, 1, {1}, answer(2, 2), t0);
  cache.keep_only({2});
  BOOST_TEST(!cache.lookup(1, 1, {1}, t0));
  BOOST_TEST(value_of(cache.lookup(2, 1, {1}, t0)) == 2.0f);
  BOOST_TEST(cache.size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_answer_of_a_version_no_longer_served_is_not_kept) {
  troupe::inference::response_cache cache({10, 60});
  cache.keep_only({2});
  cache.store(1, 1, {1}, answer(1, 1), t0);  // a reply of version 1 that was on its way
  BOOST_TEST(!cache.lookup(1, 1, {1}, t0));
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
