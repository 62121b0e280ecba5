// The store contract for the model registry (see store_contract.hpp): versions count from 1 per
// name and load back with every field, registration is idempotent per job and atomic against
// concurrent registrations through several stores, a name stays its first tenant's, and stage
// changes land with their history, one model's changes one after the other.
#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "store_contract.hpp"

namespace troupe::store::test {
namespace {

model_version_record version_of(const std::string& name, const std::string& job_id,
                                const std::string& tenant = "ml") {
  model_version_record v;
  v.name = name;
  v.tenant = tenant;
  v.job_id = job_id;
  v.artifact_digest = std::string(64, 'a');
  v.final_metrics_json = R"({"val_loss":0.25})";
  v.best_metrics_json = R"({"val_loss":0.2,"epoch":3})";
  v.params_json = R"({"kind":"train","epochs":5})";
  v.dataset_fingerprint = "sha256:" + std::string(64, 'd');
  v.created_at_ms = 1'796'000'000'000;
  v.input_features = 64;
  v.classes = {"food", "rent \"shared\"", "ünicode"};
  v.version = 99;          // ignored
  v.stage = "production";  // ignored
  return v;
}

// Moves `version` to `stage`, and whatever held that stage before to archived.
models_store::stage_plan promote(uint32_t version, const std::string& stage, int64_t at_ms = 7) {
  return [=](const std::vector<model_version_record>& versions) {
    std::vector<model_stage_change> changes;
    for (const auto& v : versions)
      if (v.stage == stage && v.version != version)
        changes.push_back({"", 0, v.version, "", "archived", "key-1", at_ms});
    changes.push_back({"", 0, version, "", stage, "key-1", at_ms});
    return changes;
  };
}

}  // namespace

namespace contract {

void versions_count_from_one_per_model_and_load_back_with_every_field(backend& b) {
  auto store = open_store(b.url());
  BOOST_TEST(store->models().load_versions("").empty());
  auto& models = store->models();
  const auto first = models.register_version(version_of("txn", "j1"));
  const auto second = models.register_version(version_of("txn", "j2"));
  const auto other = models.register_version(version_of("churn", "j3"));
  BOOST_TEST((first.result == model_registration::outcome::registered));
  BOOST_TEST(first.version.version == 1u);
  BOOST_TEST(second.version.version == 2u);
  BOOST_TEST(other.version.version == 1u);

  const auto loaded = open_store(b.url())->models().load_versions("txn");
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  auto expected = version_of("txn", "j2");
  const auto& v = loaded[1];
  BOOST_TEST(v.name == "txn");
  BOOST_TEST(v.version == 2u);
  BOOST_TEST(v.tenant == expected.tenant);
  BOOST_TEST(v.job_id == "j2");
  BOOST_TEST(v.artifact_digest == expected.artifact_digest);
  BOOST_TEST(v.final_metrics_json == expected.final_metrics_json);
  BOOST_TEST(v.best_metrics_json == expected.best_metrics_json);
  BOOST_TEST(v.params_json == expected.params_json);
  BOOST_TEST(v.dataset_fingerprint == expected.dataset_fingerprint);
  BOOST_TEST(v.stage == "none");
  BOOST_TEST(v.created_at_ms == expected.created_at_ms);
  BOOST_TEST(v.input_features == 64u);
  BOOST_TEST(v.output_kind == "logits");
  BOOST_TEST((v.classes == std::vector<std::string>{"food", "rent \"shared\"", "ünicode"}));
  BOOST_TEST(v.source == "trained");
  const auto all = store->models().load_versions("");
  BOOST_TEST_REQUIRE(all.size() == 3u);
  BOOST_TEST(all[0].name == "churn");  // by name, then version
  BOOST_TEST(all[2].version == 2u);
}

void a_retried_registration_of_a_job_returns_its_first_version(backend& b) {
  auto store = open_store(b.url());
  store->models().register_version(version_of("txn", "j1"));
  auto retried = version_of("txn", "j1");
  retried.artifact_digest = std::string(64, 'b');
  const auto again = open_store(b.url())->models().register_version(retried);
  BOOST_TEST((again.result == model_registration::outcome::existing));
  BOOST_TEST(again.version.version == 1u);
  BOOST_TEST(again.version.artifact_digest == std::string(64, 'a'), "the first one, unchanged");
  BOOST_TEST(store->models().load_versions("txn").size() == 1u);
  BOOST_TEST(store->models().register_version(version_of("txn", "j2")).version.version == 2u);
}

void an_import_is_idempotent_per_name_and_artifact_and_has_no_job(backend& b) {
  auto store = open_store(b.url());
  auto& models = store->models();
  models.register_version(version_of("txn", "j1"));
  auto imported = version_of("txn", "");
  imported.source = "imported";
  imported.output_kind = "probabilities";
  imported.artifact_digest = std::string(64, 'e');
  const auto first = models.register_version(imported);
  BOOST_TEST((first.result == model_registration::outcome::registered));
  BOOST_TEST(first.version.version == 2u);
  const auto again = open_store(b.url())->models().register_version(imported);
  BOOST_TEST((again.result == model_registration::outcome::existing));
  BOOST_TEST(again.version.version == 2u);
  auto other_file = imported;
  other_file.artifact_digest = std::string(64, 'f');
  BOOST_TEST(models.register_version(other_file).version.version == 3u);
  auto other_model = imported;
  other_model.name = "churn";
  BOOST_TEST(models.register_version(other_model).version.version == 1u);
  const auto loaded = models.load_versions("txn");
  BOOST_TEST_REQUIRE(loaded.size() == 3u);
  BOOST_TEST(loaded[1].job_id.empty());
  BOOST_TEST(loaded[1].source == "imported");
  BOOST_TEST(loaded[1].output_kind == "probabilities");
}

void a_store_of_schema_5_keeps_its_model_versions_with_no_signature(backend& b) {
  create_schema_up_to(b, 5);
  // A version written through schema 4's own table before the upgrade.
  b.execute("INSERT INTO models VALUES ('txn', 'ml', 1, 5)");
  b.execute("INSERT INTO model_versions VALUES ('txn', 1, 'ml', 'j1', '" + std::string(64, 'a') +
            "', '{}', '{}', '{}', 'fp', 'production', 5)");
  auto store = open_store(b.url());
  BOOST_TEST(b.applied_migrations() == all_versions(), boost::test_tools::per_element());
  const auto loaded = store->models().load_versions("txn");
  BOOST_TEST_REQUIRE(loaded.size() == 1u);
  BOOST_TEST(loaded[0].job_id == "j1");
  BOOST_TEST(loaded[0].stage == "production");
  BOOST_TEST(loaded[0].input_features == 0u);
  BOOST_TEST(loaded[0].source == "trained");
  // Still idempotent per job after the upgrade.
  BOOST_TEST((store->models().register_version(version_of("txn", "j1")).result ==
              model_registration::outcome::existing));
  BOOST_TEST(store->models().register_version(version_of("txn", "j2")).version.version == 2u);
}

void concurrent_registrations_of_one_name_get_distinct_consecutive_versions(backend& b) {
  constexpr int writers = 4;
  constexpr int per_writer = 10;
  std::vector<std::unique_ptr<cluster_store>> stores;
  for (int w = 0; w < writers; ++w) stores.push_back(open_store(b.url()));
  std::vector<std::vector<uint32_t>> got(writers);
  std::vector<std::string> failures(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      try {
        for (int i = 0; i < per_writer; ++i) {
          const auto job = "w" + std::to_string(w) + "-" + std::to_string(i);
          got[w].push_back(
              stores[w]->models().register_version(version_of("txn", job)).version.version);
        }
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& f : failures) BOOST_TEST(f.empty(), f);

  std::set<uint32_t> versions;
  for (const auto& g : got) {
    BOOST_TEST(std::is_sorted(g.begin(), g.end()), "each writer's versions increase");
    versions.insert(g.begin(), g.end());
  }
  BOOST_TEST(versions.size() == size_t{writers * per_writer}, "no version given twice");
  BOOST_TEST(*versions.begin() == 1u);
  BOOST_TEST(*versions.rbegin() == uint32_t{writers * per_writer}, "no version skipped");
  BOOST_TEST(open_store(b.url())->models().load_versions("txn").size() ==
             size_t{writers * per_writer});
}

void concurrent_registrations_of_one_job_store_one_version(backend& b) {
  constexpr int writers = 4;
  std::vector<std::unique_ptr<cluster_store>> stores;
  for (int w = 0; w < writers; ++w) stores.push_back(open_store(b.url()));
  std::vector<uint32_t> got(writers);
  std::vector<std::string> failures(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      try {
        got[w] = stores[w]->models().register_version(version_of("txn", "j1")).version.version;
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& f : failures) BOOST_TEST(f.empty(), f);
  BOOST_TEST(std::count(got.begin(), got.end(), 1u) == writers);
  BOOST_TEST(stores[0]->models().load_versions("").size() == 1u);
}

void a_name_of_another_tenants_model_is_refused_and_nothing_stored(backend& b) {
  auto store = open_store(b.url());
  store->models().register_version(version_of("txn", "j1", "ml"));
  const auto refused = store->models().register_version(version_of("txn", "j2", "other"));
  BOOST_TEST((refused.result == model_registration::outcome::other_tenant));
  BOOST_TEST(refused.version.tenant == "ml");
  BOOST_TEST(store->models().load_versions("").size() == 1u);
  BOOST_TEST(store->models().register_version(version_of("txn", "j3", "ml")).version.version == 2u);
}

void stage_changes_land_with_their_history_in_order(backend& b) {
  auto store = open_store(b.url());
  for (const char* job : {"j1", "j2", "j3"})
    store->models().register_version(version_of("txn", job));
  store->models().register_version(version_of("churn", "j4"));
  const auto first = store->models().change_stages("txn", promote(1, "production", 10));
  BOOST_TEST_REQUIRE(first.size() == 1u);
  BOOST_TEST(first[0].seq == 1u);
  BOOST_TEST(first[0].from_stage == "none");
  const auto second = store->models().change_stages("txn", promote(3, "production", 20));
  BOOST_TEST_REQUIRE(second.size() == 2u);
  store->models().change_stages("churn", promote(1, "staging", 30));

  auto reopened = open_store(b.url());
  std::vector<std::string> stages;
  for (const auto& v : reopened->models().load_versions("txn")) stages.push_back(v.stage);
  BOOST_TEST(stages == (std::vector<std::string>{"archived", "none", "production"}),
             boost::test_tools::per_element());
  const auto history = reopened->models().load_stage_changes("txn");
  BOOST_TEST_REQUIRE(history.size() == 3u);
  BOOST_TEST(history[1].seq == 2u);
  BOOST_TEST(history[1].version == 1u);
  BOOST_TEST(history[1].from_stage == "production");
  BOOST_TEST(history[1].to_stage == "archived");
  BOOST_TEST(history[1].changed_by == "key-1");
  BOOST_TEST(history[1].at_ms == 20);
  BOOST_TEST(history[2].version == 3u);
  BOOST_TEST(history[2].from_stage == "none");
  BOOST_TEST(history[2].to_stage == "production");
  BOOST_TEST(reopened->models().load_stage_changes("").size() == 4u);
  BOOST_TEST(reopened->models().load_stage_changes("churn").front().seq == 1u, "seq is per model");
}

void concurrent_stage_changes_of_one_model_apply_one_after_the_other(backend& b) {
  constexpr int writers = 4;
  {
    auto store = open_store(b.url());
    for (int w = 1; w <= writers; ++w)
      store->models().register_version(version_of("txn", "j" + std::to_string(w)));
  }
  std::vector<std::unique_ptr<cluster_store>> stores;
  for (int w = 0; w < writers; ++w) stores.push_back(open_store(b.url()));
  std::vector<std::string> failures(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      try {
        for (int round = 0; round < 5; ++round)
          stores[w]->models().change_stages("txn",
                                            promote(static_cast<uint32_t>(w + 1), "production"));
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& f : failures) BOOST_TEST(f.empty(), f);
  const auto versions = stores[0]->models().load_versions("txn");
  BOOST_TEST(std::count_if(versions.begin(), versions.end(), [](const model_version_record& v) {
               return v.stage == "production";
             }) == 1);
  // Each change starts from the stage the one before it left.
  std::map<uint32_t, std::string> stage;
  const auto history = stores[0]->models().load_stage_changes("txn");
  for (size_t i = 0; i < history.size(); ++i) {
    BOOST_TEST(history[i].seq == i + 1);
    const auto before = stage.count(history[i].version) ? stage[history[i].version] : "none";
    BOOST_TEST(history[i].from_stage == before, "change " << i + 1);
    stage[history[i].version] = history[i].to_stage;
  }
}

}  // namespace contract
}  // namespace troupe::store::test
