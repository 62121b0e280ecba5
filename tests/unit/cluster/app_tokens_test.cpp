// Application tokens (cluster/security/app_tokens): the token bucket on an injected clock, and
// the registry's verdicts on presented tokens.
#define BOOST_TEST_MODULE app_tokens
#include <boost/test/unit_test.hpp>

#include "cluster/security/app_tokens.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using security::app_token_check;
using security::bucket_clock;

namespace {

const bucket_clock::time_point t0{};

store::app_token_record token(const std::string& name, const std::string& secret,
                              const std::string& role, uint32_t rate = 0, uint32_t burst = 0) {
  store::app_token_record t;
  t.name = name;
  t.tenant = "finance";
  t.role = role;
  t.secret_sha256 = security::app_token_digest(secret);
  t.rate_limit_per_s = rate;
  t.burst = burst;
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(token_bucket)

BOOST_AUTO_TEST_CASE(a_full_bucket_allows_its_burst_then_says_how_long_to_wait) {
  security::token_bucket bucket(10, 3, t0);
  for (int i = 0; i < 3; ++i) BOOST_TEST(!bucket.take(t0));
  auto wait = bucket.take(t0);
  BOOST_REQUIRE(wait);
  BOOST_TEST(wait->count() == 100);  // one token at 10 per second
}

BOOST_AUTO_TEST_CASE(the_bucket_refills_at_its_rate_and_never_beyond_its_burst) {
  security::token_bucket bucket(10, 3, t0);
  for (int i = 0; i < 3; ++i) bucket.take(t0);
  BOOST_TEST(bucket.take(t0 + 50ms).value().count() == 50);
  BOOST_TEST(!bucket.take(t0 + 100ms));
  BOOST_TEST(bucket.take(t0 + 100ms).has_value());
  const auto later = t0 + 1h;
  for (int i = 0; i < 3; ++i) BOOST_TEST(!bucket.take(later));
  BOOST_TEST(bucket.take(later).has_value());
}

BOOST_AUTO_TEST_CASE(a_clock_that_goes_back_adds_nothing) {
  security::token_bucket bucket(1, 1, t0 + 10s);
  BOOST_TEST(!bucket.take(t0 + 10s));
  BOOST_TEST(bucket.take(t0).has_value());
  BOOST_TEST(bucket.take(t0 + 10s).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(app_token_registry)

BOOST_AUTO_TEST_CASE(a_known_token_is_allowed_with_its_name_and_tenant) {
  security::app_token_registry registry;
  registry.load({token("app1", "secret-1", "predict")}, t0);
  auto check = registry.check("secret-1", msg::app_token_role::predict, t0);
  BOOST_TEST((check.result == app_token_check::outcome::allowed));
  BOOST_TEST(check.grant.name == "app1");
  BOOST_TEST(check.grant.tenant == "finance");
}

BOOST_AUTO_TEST_CASE(no_token_and_an_unknown_one_are_unknown) {
  security::app_token_registry registry;
  registry.load({token("app1", "secret-1", "predict")}, t0);
  BOOST_TEST((registry.check("", msg::app_token_role::predict, t0).result ==
              app_token_check::outcome::unknown));
  BOOST_TEST((registry.check("secret-2", msg::app_token_role::predict, t0).result ==
              app_token_check::outcome::unknown));
}

BOOST_AUTO_TEST_CASE(a_revoked_token_is_refused_as_revoked) {
  security::app_token_registry registry;
  auto t = token("app1", "secret-1", "predict");
  registry.put(t, t0);
  t.revoked_at_ms = 1'796'000'000'000;
  registry.put(t, t0);
  BOOST_TEST((registry.check("secret-1", msg::app_token_role::predict, t0).result ==
              app_token_check::outcome::revoked));
}

BOOST_AUTO_TEST_CASE(a_predict_token_may_not_manage_and_a_manage_token_may_predict) {
  security::app_token_registry registry;
  registry.load({token("app1", "p", "predict"), token("ops", "m", "manage")}, t0);
  BOOST_TEST((registry.check("p", msg::app_token_role::manage, t0).result ==
              app_token_check::outcome::wrong_role));
  BOOST_TEST((registry.check("m", msg::app_token_role::predict, t0).result ==
              app_token_check::outcome::allowed));
}

BOOST_AUTO_TEST_CASE(each_token_has_its_own_bucket) {
  security::app_token_registry registry;
  registry.load({token("a", "sa", "predict", 2, 2), token("b", "sb", "predict", 2, 2)}, t0);
  for (int i = 0; i < 2; ++i)
    BOOST_TEST((registry.check("sa", msg::app_token_role::predict, t0).result ==
                app_token_check::outcome::allowed));
  auto over = registry.check("sa", msg::app_token_role::predict, t0);
  BOOST_TEST((over.result == app_token_check::outcome::rate_limited));
  BOOST_TEST(over.retry_after.count() == 500);
  BOOST_TEST((registry.check("sb", msg::app_token_role::predict, t0).result ==
              app_token_check::outcome::allowed));
}

BOOST_AUTO_TEST_CASE(a_call_refused_for_its_role_takes_nothing_from_the_bucket) {
  security::app_token_registry registry;
  registry.load({token("a", "sa", "predict", 1, 1)}, t0);
  for (int i = 0; i < 3; ++i) registry.check("sa", msg::app_token_role::manage, t0);
  BOOST_TEST((registry.check("sa", msg::app_token_role::predict, t0).result ==
              app_token_check::outcome::allowed));
}

BOOST_AUTO_TEST_CASE(a_new_secret_is_troupe_and_64_hex_digits_and_never_repeats) {
  const auto a = security::new_app_token_secret(), b = security::new_app_token_secret();
  BOOST_TEST(a.size() == 71u);
  BOOST_TEST(a.rfind("troupe_", 0) == 0u);
  BOOST_TEST(a != b);
  BOOST_TEST(security::app_token_digest(a).size() == 64u);
}

BOOST_AUTO_TEST_SUITE_END()
