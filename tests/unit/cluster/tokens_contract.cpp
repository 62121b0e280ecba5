// The store contract for application tokens (see store_contract.hpp): tokens round-trip with
// every field, a name is taken once (also by a revoked token), revocation keeps its first time,
// an older schema gets the table, and failures name the table.
#include <limits>

#include "store_contract.hpp"

namespace troupe::store::test {
namespace {

app_token_record sample_token(const std::string& name, int64_t created_at_ms) {
  app_token_record t;
  t.name = name;
  t.tenant = "finance";
  t.role = "predict";
  t.secret_sha256 = std::string(63, 'a') + name.back();
  t.rate_limit_per_s = std::numeric_limits<uint32_t>::max();
  t.burst = 1000;
  t.created_at_ms = created_at_ms;
  return t;
}

void check_same(const app_token_record& a, const app_token_record& e) {
  BOOST_TEST(a.name == e.name);
  BOOST_TEST(a.tenant == e.tenant);
  BOOST_TEST(a.role == e.role);
  BOOST_TEST(a.secret_sha256 == e.secret_sha256);
  BOOST_TEST(a.rate_limit_per_s == e.rate_limit_per_s);
  BOOST_TEST(a.burst == e.burst);
  BOOST_TEST(a.created_at_ms == e.created_at_ms);
  BOOST_TEST(a.revoked_at_ms == e.revoked_at_ms);
}

}  // namespace

namespace contract {

void tokens_load_back_with_every_field_by_creation_time(backend& b) {
  auto store = open_store(b.url());
  BOOST_TEST(store->tokens().load_tokens().empty());
  BOOST_TEST(store->tokens().create_token(sample_token("app2", 20)));
  BOOST_TEST(store->tokens().create_token(sample_token("app1", 10)));
  const auto tokens = open_store(b.url())->tokens().load_tokens();
  BOOST_TEST_REQUIRE(tokens.size() == 2u);
  check_same(tokens[0], sample_token("app1", 10));
  check_same(tokens[1], sample_token("app2", 20));
}

void a_token_name_is_taken_once_even_after_its_revocation(backend& b) {
  auto store = open_store(b.url());
  BOOST_TEST(store->tokens().create_token(sample_token("app1", 10)));
  auto again = sample_token("app1", 30);
  again.secret_sha256 = std::string(64, 'f');
  BOOST_TEST(!store->tokens().create_token(again));
  BOOST_TEST(store->tokens().revoke_token("app1", 40).has_value());
  BOOST_TEST(!store->tokens().create_token(again));
  const auto tokens = store->tokens().load_tokens();
  BOOST_TEST_REQUIRE(tokens.size() == 1u);
  BOOST_TEST(tokens[0].secret_sha256 == sample_token("app1", 10).secret_sha256);
}

void revoking_a_token_keeps_its_first_revocation_time(backend& b) {
  auto store = open_store(b.url());
  store->tokens().create_token(sample_token("app1", 10));
  auto revoked = store->tokens().revoke_token("app1", 50);
  BOOST_TEST_REQUIRE(revoked.has_value());
  BOOST_TEST(revoked->revoked_at_ms == 50);
  BOOST_TEST(store->tokens().revoke_token("app1", 60)->revoked_at_ms == 50);
  BOOST_TEST(!store->tokens().revoke_token("nobody", 60).has_value());
  BOOST_TEST(open_store(b.url())->tokens().load_tokens().at(0).revoked_at_ms == 50);
}

void a_store_of_the_metrics_schema_gets_the_tokens_table_and_keeps_its_nodes(backend& b) {
  create_schema_up_to(b, 5);
  b.execute(
      "INSERT INTO nodes VALUES ('n1', 'box', 1, 'alive', '0', '[]', '{}', '{}', '0.1.0', 1, 2)");
  auto store = open_store(b.url());
  BOOST_TEST(b.applied_migrations() == all_versions(), boost::test_tools::per_element());
  BOOST_TEST(store->membership().load_nodes().size() == 1u);
  BOOST_TEST(store->tokens().create_token(sample_token("app1", 10)));
}

void a_failed_token_call_gives_a_store_error_naming_the_table(backend& b) {
  auto store = open_store(b.url());
  b.drop_table("app_tokens");
  expect_store_error(b, "create_token", "app_tokens",
                     [&] { store->tokens().create_token(sample_token("app1", 10)); });
  expect_store_error(b, "load_tokens", "app_tokens", [&] { store->tokens().load_tokens(); });
  expect_store_error(b, "revoke_token", "app_tokens",
                     [&] { store->tokens().revoke_token("app1", 1); });
}

}  // namespace contract
}  // namespace troupe::store::test
