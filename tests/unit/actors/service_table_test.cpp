// The service router's decisions: which replica and version a prediction goes to, as replicas
// resolve, report, fail and fall silent.
#include <boost/test/unit_test.hpp>

#include <map>

#include "actors/inference/service_table.hpp"

using namespace troupe;
using namespace troupe::inference;
using namespace std::chrono_literals;

namespace {

const auto t0 = table_clock::time_point{} + 1h;

service_identity txn() {
  return {"txn", "research", "j00000000000000aa", "txn@production", 2, {false, 5, 10}, {}};
}

model_signature sig(uint32_t features = 4) { return {features, output_kind::logits, {"a", "b"}}; }

prediction_request request(uint32_t version = 0, std::string key = "") {
  prediction_request r;
  r.service = "txn";
  r.version = version;
  r.feature_count = 4;
  r.features = {1, 2, 3, 4};
  r.routing_key = std::move(key);
  return r;
}

std::string attempt(int task) { return "j00000000000000aa." + std::to_string(task) + ".1"; }

// Two replicas resolved to `versions`, each ready for `loaded`.
service_table two_replicas(std::vector<resolved_version> versions,
                           std::vector<std::pair<uint32_t, std::string>> loaded) {
  service_table table(7);
  for (int task = 0; task < 2; ++task) {
    table.resolved(txn(), "txn", versions, attempt(task), "node-" + std::to_string(task), t0);
    BOOST_TEST(table.reported(attempt(task), "node-" + std::to_string(task), loaded));
  }
  return table;
}

route routed(service_table& table, const prediction_request& r, const std::string& avoid = {}) {
  auto out = table.route_request(r, avoid);
  const auto* e = std::get_if<msg::error>(&out);
  BOOST_TEST_REQUIRE(!e, (e ? e->message : ""));
  return std::get<route>(out);
}

msg::error refused(service_table& table, const prediction_request& r) {
  auto out = table.route_request(r);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(out));
  return std::get<msg::error>(out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(service_routing)

BOOST_AUTO_TEST_CASE(replicas_of_a_version_take_turns) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  std::map<std::string, int> seen;
  for (int i = 0; i < 10; ++i) ++seen[routed(table, request()).attempt_id];
  BOOST_TEST(seen[attempt(0)] == 5);
  BOOST_TEST(seen[attempt(1)] == 5);
  const auto r = routed(table, request());
  BOOST_TEST(r.version == 3u);
  BOOST_TEST(r.model_name == "txn");
  BOOST_TEST((r.signature == sig()));
}

BOOST_AUTO_TEST_CASE(a_retry_goes_to_another_replica_and_none_left_is_unavailable) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  BOOST_TEST(routed(table, request(), attempt(0)).attempt_id == attempt(1));
  table.failed(attempt(1));
  BOOST_TEST(routed(table, request()).attempt_id == attempt(0));
  table.failed(attempt(0));
  BOOST_TEST((refused(table, request()).code == msg::error_code::unavailable));
}

BOOST_AUTO_TEST_CASE(a_failed_replica_takes_requests_again_once_it_resolves) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  table.failed(attempt(0));
  table.resolved(txn(), "txn", {{3, 100, sig()}}, attempt(0), "node-0", t0 + 1s);
  std::map<std::string, int> seen;
  for (int i = 0; i < 4; ++i) ++seen[routed(table, request()).attempt_id];
  BOOST_TEST(seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_split_follows_the_weights_among_versions_with_ready_replicas) {
  auto table = two_replicas({{3, 90, sig()}, {4, 10, sig()}}, {{3, ""}, {4, ""}});
  std::map<uint32_t, int> seen;
  for (int i = 0; i < 4000; ++i) ++seen[routed(table, request()).version];
  BOOST_TEST_MESSAGE("version 3: " << seen[3] << ", version 4: " << seen[4]);
  BOOST_TEST(seen[3] + seen[4] == 4000);
  BOOST_TEST(seen[4] > 300);  // 400 expected; 5 standard deviations are 95
  BOOST_TEST(seen[4] < 500);
}

BOOST_AUTO_TEST_CASE(the_same_routing_key_always_gets_the_same_version) {
  auto table = two_replicas({{3, 50, sig()}, {4, 50, sig()}}, {{3, ""}, {4, ""}});
  std::map<uint32_t, int> by_key;
  for (int user = 0; user < 50; ++user) {
    const auto key = "user-" + std::to_string(user);
    const auto first = routed(table, request(0, key)).version;
    for (int again = 0; again < 5; ++again)
      BOOST_TEST(routed(table, request(0, key)).version == first);
    ++by_key[first];
  }
  BOOST_TEST(by_key.size() == 2u);  // keys spread over both versions
}

BOOST_AUTO_TEST_CASE(a_promotion_keeps_the_old_version_answering_until_a_replica_loaded_the_new) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  // The reference now resolves to version 4; no replica has loaded it yet.
  for (int task = 0; task < 2; ++task)
    table.resolved(txn(), "txn", {{4, 100, sig()}}, attempt(task), "n", t0 + 1s);
  BOOST_TEST(routed(table, request()).version == 3u);
  table.reported(attempt(1), "n", {{3, ""}, {4, ""}});
  for (int i = 0; i < 6; ++i) {
    const auto r = routed(table, request());
    BOOST_TEST(r.version == 4u);
    BOOST_TEST(r.attempt_id == attempt(1));
  }
}

BOOST_AUTO_TEST_CASE(a_version_that_failed_to_load_leaves_the_old_one_serving_with_its_problem) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  for (int task = 0; task < 2; ++task) {
    table.resolved(txn(), "txn", {{4, 100, sig()}}, attempt(task), "n", t0 + 1s);
    table.reported(attempt(task), "n", {{3, ""}, {4, "not a TorchScript file"}});
  }
  BOOST_TEST(routed(table, request()).version == 3u);
  const auto status = table.statuses("").at(0);
  BOOST_TEST_REQUIRE(status.versions.size() == 2u);
  BOOST_TEST(status.versions[0].version == 3u);
  BOOST_TEST(status.versions[0].ready_replicas == 2u);
  BOOST_TEST(status.versions[1].version == 4u);
  BOOST_TEST(status.versions[1].ready_replicas == 0u);
  BOOST_TEST(status.versions[1].problem == "not a TorchScript file");
}

BOOST_AUTO_TEST_CASE(a_status_says_what_the_service_asks_of_callers_and_caches) {
  service_table table(7);
  auto cached = txn();
  cached.cache = {1000, 30};
  table.resolved(cached, "txn", {{3, 100, sig()}}, attempt(0), "n", t0);
  const auto status = table.statuses("").at(0);
  BOOST_TEST((status.auth == auth_policy{false, 5, 10}));
  BOOST_TEST((status.cache == cache_policy{1000, 30}));
}

BOOST_AUTO_TEST_CASE(bad_requests_are_refused_with_what_is_wrong) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  auto other = request();
  other.service = "nope";
  BOOST_TEST((refused(table, other).code == msg::error_code::not_found));
  BOOST_TEST((refused(table, request(9)).code == msg::error_code::not_found));
  auto wrong = request();
  wrong.feature_count = 5;
  const auto e = refused(table, wrong);
  BOOST_TEST((e.code == msg::error_code::invalid_request));
  BOOST_TEST(e.message == "version 3 of txn takes 4 features per row, got 5");
  auto tenant = request();
  tenant.tenant = "other";
  BOOST_TEST((refused(table, tenant).code == msg::error_code::not_found));
}

BOOST_AUTO_TEST_CASE(a_replica_that_fell_silent_is_dropped_and_so_is_a_service_without_any) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  table.resolved(txn(), "txn", {{3, 100, sig()}}, attempt(1), "node-1", t0 + 2s);
  table.drop_silent(t0 + 4s);
  for (int i = 0; i < 3; ++i) BOOST_TEST(routed(table, request()).attempt_id == attempt(1));
  table.drop_silent(t0 + 10s);
  BOOST_TEST(table.statuses("").empty());
  BOOST_TEST((refused(table, request()).code == msg::error_code::not_found));
}

BOOST_AUTO_TEST_CASE(a_services_access_policy_and_versions_are_known_while_it_runs) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  const auto accesses = table.accesses();
  BOOST_TEST_REQUIRE(accesses.size() == 1u);
  BOOST_TEST(accesses[0].first == "txn");
  BOOST_TEST((accesses[0].second == service_access{"research", {false, 5, 10}}));
  BOOST_TEST(table.service_of(attempt(0))->job_id == "j00000000000000aa");
  BOOST_TEST(table.serves("j00000000000000aa", 3));
  BOOST_TEST(!table.serves("j00000000000000aa", 4));
  table.drop_silent(t0 + 4s);
  BOOST_TEST(table.accesses().empty());
  BOOST_TEST(!table.service_of(attempt(0)));
  BOOST_TEST(!table.runs("j00000000000000aa"));
}

BOOST_AUTO_TEST_CASE(a_report_from_another_node_or_before_resolving_changes_nothing) {
  auto table = two_replicas({{3, 100, sig()}}, {});
  BOOST_TEST(!table.reported(attempt(0), "node-1", {{3, ""}}));
  BOOST_TEST(!table.reported("j00000000000000aa.7.1", "node-0", {{3, ""}}));
  BOOST_TEST((refused(table, request()).code == msg::error_code::unavailable));
}

BOOST_AUTO_TEST_CASE(a_report_cannot_name_a_version_the_head_did_not_resolve) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}, {99, ""}});
  BOOST_TEST((refused(table, request(99)).code == msg::error_code::not_found));
  BOOST_TEST(table.statuses("").at(0).versions.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_listing_counts_answers_per_version_and_sees_only_the_tenant_asked) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  table.answered("j00000000000000aa", 3);
  table.answered("j00000000000000aa", 3);
  const auto all = table.statuses("");
  BOOST_TEST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].name == "txn");
  BOOST_TEST(all[0].replicas == 2u);
  BOOST_TEST(all[0].ready_replicas == 2u);
  BOOST_TEST(all[0].versions.at(0).requests == 2u);
  BOOST_TEST(table.statuses("research").size() == 1u);
  BOOST_TEST(table.statuses("other").empty());
}

BOOST_AUTO_TEST_CASE(a_reload_reaches_the_replicas_that_have_not_failed_on_their_nodes) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  table.failed(attempt(1));
  const auto replicas = table.replicas_of("txn", "research");
  BOOST_TEST_REQUIRE(replicas.has_value());
  BOOST_TEST_REQUIRE(replicas->size() == 1u);
  BOOST_TEST((*replicas)[0].attempt_id == attempt(0));
  BOOST_TEST((*replicas)[0].node_peer == "node-0");
  BOOST_TEST(table.replicas_of("txn", "").has_value());
  BOOST_TEST(!table.replicas_of("txn", "other tenant").has_value());
  BOOST_TEST(!table.replicas_of("nope", "").has_value());
}

BOOST_AUTO_TEST_CASE(a_replicas_problems_are_those_of_the_versions_its_service_resolves_now) {
  auto table = two_replicas({{3, 100, sig()}, {4, 0, sig()}}, {{3, ""}, {4, "not an archive"}});
  BOOST_TEST(
      (table.problems_of(attempt(0)) == std::vector<std::string>{"version 4: not an archive"}));
  // Version 4 is no longer named: its old problem is no reason to refuse a reload.
  table.resolved(txn(), "txn", {{3, 100, sig()}}, attempt(0), "node-0", t0);
  BOOST_TEST(table.problems_of(attempt(0)).empty());
  BOOST_TEST(table.problems_of("j00000000000000aa.9.1").empty());
}

BOOST_AUTO_TEST_CASE(a_replica_whose_attempt_ended_is_dropped_at_once_and_so_is_its_empty_service) {
  auto table = two_replicas({{3, 100, sig()}}, {{3, ""}});
  table.ended(attempt(1));
  for (int i = 0; i < 4; ++i) BOOST_TEST(routed(table, request()).attempt_id == attempt(0));
  BOOST_TEST(table.statuses("")[0].ready_replicas == 1u);
  BOOST_TEST(!table.reported(attempt(1), "node-1", {{3, ""}}));  // it must resolve first
  table.ended(attempt(0));
  BOOST_TEST(table.statuses("").empty());
  BOOST_TEST((refused(table, request()).code == msg::error_code::not_found));
  table.ended(attempt(0));  // told twice: nothing changes
}

BOOST_AUTO_TEST_SUITE_END()
