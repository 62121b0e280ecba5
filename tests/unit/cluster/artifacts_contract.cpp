// The store contract for the artifacts area (see store_contract.hpp): every version of an
// artifact round-trips, versions of one name are kept side by side by digest, a store of the
// jobs schema is migrated, a removed version is gone, and failures name the table.
#include <algorithm>
#include <limits>

#include "store_contract.hpp"

namespace troupe::store::test {
namespace {

artifact_record sample_artifact(const std::string& name, char digit) {
  artifact_record r;
  r.tenant = "research";
  r.name = name;
  r.digest = std::string(64, digit);
  r.kind = "checkpoint";
  r.size = 123'456'789;
  r.created_at_ms = 1'796'000'000'123;
  r.job_id = "j0123456789abcdef";
  return r;
}

void check_same(const artifact_record& actual, const artifact_record& expected) {
  BOOST_TEST(actual.tenant == expected.tenant);
  BOOST_TEST(actual.name == expected.name);
  BOOST_TEST(actual.digest == expected.digest);
  BOOST_TEST(actual.kind == expected.kind);
  BOOST_TEST(actual.size == expected.size);
  BOOST_TEST(actual.created_at_ms == expected.created_at_ms);
  BOOST_TEST(actual.job_id == expected.job_id);
}

std::vector<artifact_record> sorted(std::vector<artifact_record> rows) {
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.digest) < std::tie(b.name, b.digest);
  });
  return rows;
}

}  // namespace

namespace contract {

void a_new_store_has_no_artifacts(backend& b) {
  BOOST_TEST(open_store(b.url())->artifacts().load_artifacts().empty());
}

void a_stored_artifact_loads_back_with_every_field(backend& b) {
  auto store = open_store(b.url());
  auto typical = sample_artifact("txn-train", 'a');
  auto extreme = sample_artifact("naïve/名前 'quoted' \"x\"", 'b');
  extreme.size = std::numeric_limits<uint64_t>::max();
  extreme.created_at_ms = std::numeric_limits<int64_t>::min();
  extreme.job_id.clear();
  store->apply({typical, extreme});
  const auto loaded = sorted(open_store(b.url())->artifacts().load_artifacts());
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  check_same(loaded[0], extreme);
  check_same(loaded[1], typical);
}

void versions_of_a_name_are_kept_by_digest_and_rewriting_one_replaces_it(backend& b) {
  auto store = open_store(b.url());
  auto first = sample_artifact("txn-train", '1');
  auto second = sample_artifact("txn-train", '2');
  second.created_at_ms = first.created_at_ms + 1;
  store->apply({first, second});
  first.created_at_ms = second.created_at_ms + 1;  // uploaded again: now the latest
  first.kind = "dataset";
  store->apply({first});
  const auto loaded = sorted(store->artifacts().load_artifacts());
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  check_same(loaded[0], first);
  check_same(loaded[1], second);
  BOOST_TEST(row_of(first) == "artifacts/research/txn-train/" + first.digest);
}

void removing_an_artifact_version_deletes_only_that_row(backend& b) {
  auto store = open_store(b.url());
  const auto old = sample_artifact("j1/checkpoint", '1');
  const auto newer = sample_artifact("j1/checkpoint", '2');
  auto same_bytes_elsewhere = sample_artifact("j2/checkpoint", '1');
  store->apply({old, newer, same_bytes_elsewhere});
  store->apply({artifact_removal{old.tenant, old.name, old.digest},
                artifact_removal{"research", "never-stored", old.digest}});
  const auto loaded = sorted(open_store(b.url())->artifacts().load_artifacts());
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  check_same(loaded[0], newer);
  check_same(loaded[1], same_bytes_elsewhere);
  BOOST_TEST(row_of(artifact_removal{old.tenant, old.name, old.digest}) == row_of(old));
}

void a_store_of_the_jobs_schema_gets_the_artifacts_table_and_keeps_its_nodes(backend& b) {
  create_schema_up_to(b, 2);
  BOOST_TEST(b.applied_migrations() == (std::vector<int>{1, 2}), boost::test_tools::per_element());
  // A node written through the jobs schema's own tables before the upgrade.
  b.execute(
      "INSERT INTO nodes VALUES ('n1', 'box', 1, 'alive', '0', '[]', '{}', '{}', '0.1.0', 1, 2)");
  auto store = open_store(b.url());
  BOOST_TEST(b.applied_migrations() == all_versions(), boost::test_tools::per_element());
  BOOST_TEST(store->membership().load_nodes().size() == 1u);
  BOOST_TEST(store->artifacts().load_artifacts().empty());
  store->apply({sample_artifact("txn-train", 'c')});
  BOOST_TEST(open_store(b.url())->artifacts().load_artifacts().size() == 1u);
}

void a_failed_artifact_call_gives_a_store_error_naming_the_table(backend& b) {
  auto store = open_store(b.url());
  b.drop_table("artifacts");
  expect_store_error(b, "load_artifacts", "artifacts",
                     [&] { store->artifacts().load_artifacts(); });
  expect_store_error(b, "an artifact write", "artifacts",
                     [&] { store->apply({sample_artifact("txn-train", 'd')}); });
}

}  // namespace contract
}  // namespace troupe::store::test
