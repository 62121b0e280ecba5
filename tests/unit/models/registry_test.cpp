// The registry service (cluster/models/registry.hpp) over a real SQLite store: registrations,
// references, promotion rules, tenant isolation, bounded replies and store failures.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "cluster/models/registry.hpp"
#include "cluster/store/faulty_store.hpp"
#include "messages/codec.hpp"

using namespace troupe;
using models::stage;

namespace {

namespace fs = std::filesystem;

const models::caller admin{msg::key_role::admin, "admin-key", ""};
const models::caller ml{msg::key_role::submit, "ml-key", "ml"};

models::registration trained(const std::string& name, const std::string& job_id,
                             const std::string& tenant = "ml") {
  return {name,
          tenant,
          job_id,
          std::string(64, 'c'),
          R"({"val_loss":0.3})",
          R"({"val_loss":0.25,"epoch":2})",
          R"({"kind":"train","epochs":3})",
          "sha256:" + std::string(64, 'd'),
          64,
          models::output_kind::logits,
          {"a", "b"},
          models::model_source::trained};
}

struct fixture {
  fs::path dir;
  std::shared_ptr<store::faulty_store> store;
  int64_t now = 1'796'000'000'000;
  models::registry registry{store_of(), store->artifacts(), [this] { return ++now; }};

  store::models_store& store_of() {
    std::string pattern = (fs::temp_directory_path() / "troupe-models-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
    store = std::make_shared<store::faulty_store>(std::shared_ptr<store::cluster_store>(
        store::open_store("sqlite://" + (dir / "t.db").string())));
    return store->models();
  }
  ~fixture() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  uint32_t registered(const models::registration& r) {
    auto result = registry.register_version(r);
    const auto* e = std::get_if<msg::error>(&result);
    BOOST_TEST_REQUIRE(!e, r.job_id << ": " << (e ? e->message : ""));
    return std::get<uint32_t>(result);
  }
  msg::error refused(const models::registration& r) {
    auto result = registry.register_version(r);
    BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(result), r.job_id << " was registered");
    return std::get<msg::error>(result);
  }

  template <class Reply, class Request>
  Reply ask(const models::caller& who, Request request) {
    auto body = registry.answer(who, msg::models_message{std::move(request)});
    const auto* e = std::get_if<msg::error>(&body);
    BOOST_TEST_REQUIRE(!e, "refused: " << (e ? e->message : ""));
    return std::get<Reply>(std::get<msg::models_message>(body).body);
  }
  template <class Request>
  msg::error ask_refused(const models::caller& who, Request request) {
    auto body = registry.answer(who, msg::models_message{std::move(request)});
    BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(body), "answered, not refused");
    return std::get<msg::error>(body);
  }

  // An artifact row as a finished upload stores it.
  void uploaded(const std::string& tenant, const std::string& digest, const std::string& kind) {
    store->apply({store::artifact_record{tenant, "file.pt", digest, kind, 10, now, ""}});
  }

  msg::promote_model_reply promote(const std::string& name, uint32_t version, stage s,
                                   const models::caller& who = admin) {
    return ask<msg::promote_model_reply>(who, msg::promote_model_request{name, version, s});
  }
  std::vector<stage> stages(const std::string& name) {
    std::vector<stage> out;
    auto reply = ask<msg::get_model_reply>(admin, msg::get_model_request{name, 0, stage::none});
    for (auto v = reply.versions.rbegin(); v != reply.versions.rend(); ++v) out.push_back(v->stage);
    return out;  // oldest first
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(model_registry)

BOOST_FIXTURE_TEST_CASE(each_model_gets_increasing_versions_from_one, fixture) {
  BOOST_TEST(registered(trained("txn", "j1")) == 1u);
  BOOST_TEST(registered(trained("txn", "j2")) == 2u);
  BOOST_TEST(registered(trained("churn", "j3")) == 1u);
  BOOST_TEST(registered(trained("txn", "j4")) == 3u);
  auto listed = ask<msg::list_models_reply>(admin, msg::list_models_request{});
  BOOST_TEST_REQUIRE(listed.models.size() == 2u);
  BOOST_TEST(listed.models[0].name == "churn");
  BOOST_TEST(listed.models[1].name == "txn");
  BOOST_TEST(listed.models[1].latest_version == 3u);
  BOOST_TEST(listed.models[1].versions == 3u);
  BOOST_TEST(listed.models[1].tenant == "ml");
}

BOOST_FIXTURE_TEST_CASE(a_retried_registration_of_a_job_gets_its_first_version, fixture) {
  BOOST_TEST(registered(trained("txn", "j1")) == 1u);
  BOOST_TEST(registered(trained("txn", "j1")) == 1u);
  BOOST_TEST(registered(trained("txn", "j2")) == 2u);
  const auto other_name = refused(trained("churn", "j1"));
  BOOST_TEST((other_name.code == msg::error_code::conflict));
  BOOST_TEST(other_name.message == "job_id: job j1 registered model txn version 1");
}

BOOST_FIXTURE_TEST_CASE(a_registration_with_a_bad_field_is_refused_naming_it, fixture) {
  auto with = [](auto change) {
    auto r = trained("txn", "j1");
    change(r);
    return r;
  };
  const std::vector<std::pair<models::registration, std::string>> cases{
      {with([](auto& r) { r.name = "no spaces"; }), "name: "},
      {with([](auto& r) { r.tenant.clear(); }), "tenant: "},
      {with([](auto& r) { r.job_id.clear(); }), "job_id: "},
      {with([](auto& r) { r.artifact_digest = std::string(64, 'C'); }), "artifact_digest: "},
      {with([](auto& r) { r.artifact_digest = "abc"; }), "artifact_digest: "},
      {with([](auto& r) { r.final_metrics_json = "[1]"; }), "final_metrics: must be a JSON object"},
      {with([](auto& r) { r.best_metrics_json = "{"; }), "best_metrics: must be a JSON object"},
      {with([](auto& r) { r.params_json = "{\"x\":\"" + std::string(70'000, 'x') + "\"}"; }),
       "params: at most 65536 bytes"},
      {with([](auto& r) { r.dataset_fingerprint = std::string(300, 'f'); }),
       "dataset_fingerprint: "},
  };
  for (const auto& [r, prefix] : cases) {
    const auto e = refused(r);
    BOOST_TEST((e.code == msg::error_code::invalid_request), prefix);
    BOOST_TEST(e.message.find(prefix) == 0u, e.message);
  }
  BOOST_TEST(ask<msg::list_models_reply>(admin, msg::list_models_request{}).models.empty());
}

BOOST_FIXTURE_TEST_CASE(a_name_of_another_tenants_model_is_a_conflict, fixture) {
  registered(trained("txn", "j1", "ml"));
  const auto e = refused(trained("txn", "j2", "other"));
  BOOST_TEST((e.code == msg::error_code::conflict));
  BOOST_TEST(e.message == "name: model txn belongs to another tenant");
}

BOOST_FIXTURE_TEST_CASE(promoting_to_production_archives_the_version_there_before, fixture) {
  for (const char* job : {"j1", "j2", "j3"}) registered(trained("txn", job));
  auto first = promote("txn", 1, stage::production);
  BOOST_TEST_REQUIRE(first.changes.size() == 1u);
  BOOST_TEST((first.version.stage == stage::production));
  auto second = promote("txn", 2, stage::production);
  BOOST_TEST_REQUIRE(second.changes.size() == 2u);
  BOOST_TEST(second.changes[0].version == 1u);
  BOOST_TEST((second.changes[0].from_stage == stage::production));
  BOOST_TEST((second.changes[0].to_stage == stage::archived));
  BOOST_TEST(second.changes[0].changed_by == "admin-key");
  BOOST_TEST(second.changes[1].version == 2u);
  BOOST_TEST(second.changes[1].at_ms > first.changes[0].at_ms);
  BOOST_TEST(
      (stages("txn") == std::vector<stage>{stage::archived, stage::production, stage::none}));
}

BOOST_FIXTURE_TEST_CASE(staging_holds_one_version_as_production_does, fixture) {
  for (const char* job : {"j1", "j2", "j3"}) registered(trained("txn", job));
  promote("txn", 1, stage::production);
  promote("txn", 2, stage::staging);
  BOOST_TEST((stages("txn") == std::vector<stage>{stage::production, stage::staging, stage::none}));
  promote("txn", 3, stage::staging);
  BOOST_TEST(
      (stages("txn") == std::vector<stage>{stage::production, stage::archived, stage::staging}));
  promote("txn", 3, stage::production);  // from staging: staging is left empty
  BOOST_TEST(
      (stages("txn") == std::vector<stage>{stage::archived, stage::archived, stage::production}));
  promote("txn", 1, stage::none);  // any stage may be set by hand
  BOOST_TEST(
      (stages("txn") == std::vector<stage>{stage::none, stage::archived, stage::production}));
}

BOOST_FIXTURE_TEST_CASE(promoting_to_the_stage_a_version_has_changes_nothing, fixture) {
  registered(trained("txn", "j1"));
  promote("txn", 1, stage::production);
  const auto again = promote("txn", 1, stage::production);
  BOOST_TEST(again.changes.empty());
  BOOST_TEST((again.version.stage == stage::production));
  auto got = ask<msg::get_model_reply>(admin, msg::get_model_request{"txn", 1, stage::none});
  BOOST_TEST(got.stage_changes.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_version_is_found_by_number_or_by_stage, fixture) {
  for (const char* job : {"j1", "j2"}) registered(trained("txn", job));
  promote("txn", 1, stage::production);
  promote("txn", 2, stage::staging);
  auto by_number = ask<msg::get_model_reply>(admin, msg::get_model_request{"txn", 2, stage::none});
  BOOST_TEST_REQUIRE(by_number.versions.size() == 1u);
  BOOST_TEST(by_number.versions[0].job_id == "j2");
  BOOST_TEST(by_number.versions[0].params_json == R"({"kind":"train","epochs":3})");
  BOOST_TEST(by_number.versions[0].artifact_digest == std::string(64, 'c'));
  BOOST_TEST(by_number.model.staging_version == 2u);
  BOOST_TEST(by_number.model.production_version == 1u);
  auto in_production =
      ask<msg::get_model_reply>(admin, msg::get_model_request{"txn", 0, stage::production});
  BOOST_TEST_REQUIRE(in_production.versions.size() == 1u);
  BOOST_TEST(in_production.versions[0].version == 1u);
  BOOST_TEST_REQUIRE(in_production.stage_changes.size() == 1u);
  BOOST_TEST(in_production.stage_changes[0].version == 1u);

  auto every = ask<msg::get_model_reply>(admin, msg::get_model_request{"txn", 0, stage::none});
  BOOST_TEST_REQUIRE(every.versions.size() == 2u);
  BOOST_TEST(every.versions[0].version == 2u, "newest first");
  BOOST_TEST(every.versions[0].params_json.empty(), "the every-version view leaves params out");
  BOOST_TEST(every.stage_changes.size() == 2u);

  const auto no_version = ask_refused(admin, msg::get_model_request{"txn", 3, stage::none});
  BOOST_TEST((no_version.code == msg::error_code::not_found));
  BOOST_TEST(no_version.message == "model txn has no version 3");
  promote("txn", 2, stage::archived);
  const auto empty_stage = ask_refused(admin, msg::get_model_request{"txn", 0, stage::staging});
  BOOST_TEST(empty_stage.message == "no version of model txn is in staging");
  BOOST_TEST((ask_refused(admin, msg::get_model_request{"nope", 0, stage::none}).code ==
              msg::error_code::not_found));
  BOOST_TEST((ask_refused(admin, msg::get_model_request{"txn", 1, stage::staging}).code ==
              msg::error_code::invalid_request));
  BOOST_TEST((ask_refused(admin, msg::get_model_request{"bad name", 0, stage::none}).code ==
              msg::error_code::invalid_request));
  BOOST_TEST((ask_refused(admin, msg::promote_model_request{"txn", 0, stage::staging}).code ==
              msg::error_code::invalid_request));
  BOOST_TEST((ask_refused(admin, msg::promote_model_request{"txn", 9, stage::staging}).code ==
              msg::error_code::not_found));
}

BOOST_FIXTURE_TEST_CASE(a_submit_key_sees_and_promotes_only_its_tenants_models, fixture) {
  registered(trained("mine", "j1", "ml"));
  registered(trained("theirs", "j2", "other"));
  auto listed = ask<msg::list_models_reply>(ml, msg::list_models_request{});
  BOOST_TEST_REQUIRE(listed.models.size() == 1u);
  BOOST_TEST(listed.models[0].name == "mine");
  BOOST_TEST(ask<msg::list_models_reply>(ml, msg::list_models_request{"other", 0}).models.empty());
  BOOST_TEST(
      ask<msg::list_models_reply>(admin, msg::list_models_request{"other", 0}).models.size() == 1u);
  BOOST_TEST((promote("mine", 1, stage::production, ml).version.stage == stage::production));

  for (auto s : {stage::none, stage::production}) {
    const auto e = ask_refused(ml, msg::get_model_request{"theirs", s == stage::none ? 1u : 0u, s});
    BOOST_TEST((e.code == msg::error_code::not_found));
    BOOST_TEST(e.message == "no model theirs");
  }
  const auto e = ask_refused(ml, msg::promote_model_request{"theirs", 1, stage::production});
  BOOST_TEST(e.message == "no model theirs");
  BOOST_TEST((stages("theirs") == std::vector<stage>{stage::none}));
}

BOOST_FIXTURE_TEST_CASE(the_every_version_view_is_bounded_and_fits_one_frame, fixture) {
  auto big = trained("txn", "");
  const std::string filler(models::max_metrics_json_bytes - 10, 'm');
  big.final_metrics_json = big.best_metrics_json = "{\"m\":\"" + filler + "\"}";
  big.params_json = "{\"p\":\"" + std::string(models::max_params_json_bytes - 10, 'p') + "\"}";
  big.tenant = std::string(models::max_short_text_bytes, 't');
  big.dataset_fingerprint = std::string(models::max_short_text_bytes, 'f');
  for (int i = 1; i <= 60; ++i) {
    big.job_id = "j" + std::to_string(i) + std::string(200, 'x');
    registered(big);
  }
  for (int i = 0; i < 120; ++i)
    promote("txn", 1 + i % 60, i % 2 ? stage::staging : stage::production);

  auto every = ask<msg::get_model_reply>(admin, msg::get_model_request{"txn", 0, stage::none});
  BOOST_TEST(every.versions.size() == models::versions_per_reply);
  BOOST_TEST(every.versions.front().version == 60u);
  BOOST_TEST(every.stage_changes.size() == models::stage_changes_per_reply);
  msg::envelope reply{msg::protocol_version, 1, "head", msg::models_message{every}};
  BOOST_TEST(msg::encode(reply).size() <= msg::decode_limits{}.max_frame_bytes);
  auto one = ask<msg::get_model_reply>(admin, msg::get_model_request{"txn", 1, stage::none});
  reply.body = msg::models_message{one};
  BOOST_TEST(msg::encode(reply).size() <= msg::decode_limits{}.max_frame_bytes);
}

BOOST_FIXTURE_TEST_CASE(a_store_failure_is_answered_unavailable, fixture) {
  registered(trained("txn", "j1"));
  store->set(store::faulty_store::mode::failing);
  BOOST_TEST((refused(trained("txn", "j2")).code == msg::error_code::unavailable));
  for (auto e : {ask_refused(admin, msg::list_models_request{}),
                 ask_refused(admin, msg::get_model_request{"txn", 0, stage::none}),
                 ask_refused(admin, msg::promote_model_request{"txn", 1, stage::staging})})
    BOOST_TEST((e.code == msg::error_code::unavailable));
  store->set(store::faulty_store::mode::working);
  BOOST_TEST(registered(trained("txn", "j2")) == 2u);
}

msg::import_model_request import_of(const std::string& name, const std::string& digest) {
  return {name, "", digest, 52, models::output_kind::probabilities, {"food", "rent", "travel"}};
}

BOOST_FIXTURE_TEST_CASE(an_imported_model_is_the_next_version_with_its_signature, fixture) {
  registered(trained("txn", "j1"));
  const auto digest = std::string(64, 'e');
  uploaded("ml", digest, "model");
  const auto got = ask<msg::import_model_reply>(ml, import_of("txn", digest)).version;
  BOOST_TEST(got.version == 2u);
  BOOST_TEST(got.tenant == "ml");
  BOOST_TEST(got.job_id.empty());
  BOOST_TEST((got.source == models::model_source::imported));
  BOOST_TEST(got.input_features == 52u);
  BOOST_TEST((got.output_kind == models::output_kind::probabilities));
  BOOST_TEST((got.classes == std::vector<std::string>{"food", "rent", "travel"}));
  BOOST_TEST(got.params_json == "{}");
  // Imported again (a lost reply): the same version; another name: its own first version.
  BOOST_TEST((ask<msg::import_model_reply>(ml, import_of("txn", digest)).version == got));
  BOOST_TEST(ask<msg::import_model_reply>(ml, import_of("other", digest)).version.version == 1u);
  BOOST_TEST(registered(trained("txn", "j2")) == 3u);
  const auto one = ask<msg::get_model_reply>(admin, msg::get_model_request{"txn", 2, stage::none});
  BOOST_TEST((one.versions.at(0) == got));
}

BOOST_FIXTURE_TEST_CASE(an_import_of_a_file_that_is_not_its_tenants_model_is_refused, fixture) {
  const auto dataset = std::string(64, 'a');
  const auto others = std::string(64, 'b');
  uploaded("ml", dataset, "dataset");
  uploaded("other", others, "model");
  for (const auto& digest : {dataset, others, std::string(64, 'f')}) {
    const auto e = ask_refused(ml, import_of("txn", digest));
    BOOST_TEST((e.code == msg::error_code::not_found), e.message);
    BOOST_TEST(e.message ==
               "artifactDigest: tenant ml has no model artifact with sha256 " + digest);
  }
  auto elsewhere = import_of("txn", others);
  elsewhere.tenant = "other";
  BOOST_TEST((ask_refused(ml, elsewhere).code == msg::error_code::permission_denied));
  BOOST_TEST(ask<msg::import_model_reply>(admin, elsewhere).version.tenant == "other");
  BOOST_TEST(ask<msg::list_models_reply>(ml, msg::list_models_request{}).models.empty());
}

BOOST_FIXTURE_TEST_CASE(an_import_with_a_bad_signature_is_refused_naming_the_field, fixture) {
  const auto digest = std::string(64, 'e');
  uploaded("ml", digest, "model");
  auto with = [&](auto change) {
    auto r = import_of("txn", digest);
    change(r);
    return r;
  };
  const std::vector<std::pair<msg::import_model_request, std::string>> cases{
      {with([](auto& r) { r.input_features = 70'000; }), "input_features: at most 65536"},
      {with([](auto& r) {
         r.classes = {"a", "b", "a"};
       }),
       "classes: the label `a` is given twice"},
      {with([](auto& r) { r.classes = {""}; }), "classes: each label is 1 to 200 bytes"},
      {with([](auto& r) { r.output_kind = models::output_kind::values; }),
       "classes: a model of output kind values has no classes"},
      {with([](auto& r) { r.name = "-x"; }), "name: "},
  };
  for (const auto& [r, prefix] : cases) {
    const auto e = ask_refused(ml, r);
    BOOST_TEST((e.code == msg::error_code::invalid_request), prefix);
    BOOST_TEST(e.message.find(prefix) == 0u, e.message);
  }
  BOOST_TEST(ask<msg::list_models_reply>(admin, msg::list_models_request{}).models.empty());
}

BOOST_AUTO_TEST_SUITE_END()
