// The serve specs' per (caller, service) token buckets (cluster/inference_http/
// service_rate_limits.hpp), on a clock the test moves.
#include <boost/test/unit_test.hpp>

#include "cluster/inference_http/service_rate_limits.hpp"

using namespace troupe;
using namespace std::chrono_literals;

namespace {

const security::bucket_clock::time_point t0{};
const inference::auth_policy two_a_second{true, 2, 2};

}  // namespace

BOOST_AUTO_TEST_SUITE(service_rate_limits)

BOOST_AUTO_TEST_CASE(a_service_without_a_rate_limit_takes_every_call) {
  inference_http::service_rate_limits limits;
  for (int i = 0; i < 100; ++i) BOOST_TEST(!limits.take("app1", "t", "txn", {true, 0, 0}, t0));
}

BOOST_AUTO_TEST_CASE(each_caller_has_a_bucket_per_service_and_callers_without_a_token_share_one) {
  inference_http::service_rate_limits limits;
  for (const std::string caller : {"app1", "app2", ""}) {
    BOOST_TEST(!limits.take(caller, "t", "txn", two_a_second, t0));
    BOOST_TEST(!limits.take(caller, "t", "txn", two_a_second, t0));
    const auto wait = limits.take(caller, "t", "txn", two_a_second, t0);
    BOOST_TEST_REQUIRE(wait.has_value(), caller);
    BOOST_TEST(wait->count() == 500);
  }
  BOOST_TEST(!limits.take("app1", "t", "amount", two_a_second, t0));       // another service
  BOOST_TEST(!limits.take("app1", "other", "txn", two_a_second, t0));      // another tenant's
  BOOST_TEST(!limits.take("app1", "t", "txn", two_a_second, t0 + 500ms));  // refilled
}

BOOST_AUTO_TEST_CASE(a_changed_policy_starts_its_bucket_again_full) {
  inference_http::service_rate_limits limits;
  BOOST_TEST(!limits.take("app1", "t", "txn", {true, 1, 1}, t0));
  BOOST_TEST(limits.take("app1", "t", "txn", {true, 1, 1}, t0).has_value());
  BOOST_TEST(!limits.take("app1", "t", "txn", {true, 1, 3}, t0));
  BOOST_TEST(!limits.take("app1", "t", "txn", {true, 1, 3}, t0));
}

BOOST_AUTO_TEST_SUITE_END()
