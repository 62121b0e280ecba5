// Serve jobs changing versions, end to end with real daemons on loopback (serve_support.hpp): a
// promotion of another version to the stage the service follows switches it over while requests
// keep coming, none of them failing; a promoted version that cannot load leaves the old one
// serving; a reload over HTTP has the replicas load what the model reference names now before
// it answers; a cached service never answers across a promotion from the old version's entries.
#include <boost/test/unit_test.hpp>

#include "tests/integration/serve_support.hpp"

using namespace troupe::local;
using namespace troupe::local::serve_testing;
using troupe::test::http_call;

BOOST_AUTO_TEST_SUITE(serve_versions)

BOOST_AUTO_TEST_CASE(a_promotion_under_load_switches_the_service_over_without_a_failed_request) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  rank_cluster r(1, 180s);
  train_versions(r, 2);
  production_service service(r);
  BOOST_TEST(service.version_answering() == 1);
  service.promote(2);
  // Every request answers while the replicas load version 2; then only version 2 answers.
  BOOST_TEST_REQUIRE(wait_until([&] { return service.version_answering() == 2; }, r.job_limit),
                     r.all_logs(service.job));
  for (int i = 0; i < 10; ++i) BOOST_TEST(service.version_answering() == 2);
}

BOOST_AUTO_TEST_CASE(a_promoted_version_that_cannot_load_leaves_the_old_one_serving) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  rank_cluster r(1, 180s);
  train_versions(r, 1);
  // Version 2: a file that is no TorchScript archive, imported as the same model.
  const auto broken = r.c.root() + "/broken.pt";
  std::ofstream(broken) << "not a TorchScript archive\n";
  const auto imported = r.c.troupe(
      {"model", "register", "mlp", broken, "--input-features", "4", "--outputs", "logits"});
  BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.err);
  production_service service(r);
  service.promote(2);
  // The replicas try version 2, fail, and report why; version 1 answers all along.
  auto problem_of_2 = [&] {
    const auto shown = r.c.troupe({"services", "--json"});
    if (shown.exit_code != 0) return std::string();
    for (const auto& s : json::parse(shown.out))
      for (const auto& v : s["versions"])
        if (v["version"] == 2) return v["problem"].get<std::string>();
    return std::string();
  };
  BOOST_TEST_REQUIRE(wait_until([&] { return !problem_of_2().empty(); }, r.job_limit),
                     r.c.troupe({"services", "--json"}).out + r.all_logs(service.job));
  for (int i = 0; i < 10; ++i) BOOST_TEST(service.version_answering() == 1);
}

BOOST_AUTO_TEST_CASE(a_reload_answers_once_the_replicas_serve_the_version_registered_before_it) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  served_model s;  // follows the latest version of mlp, 1 for now
  const auto made = s.c.troupe({"--json", "token", "create", "--name", "ops", "--role", "manage"});
  BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
  const auto token = json::parse(made.out).at("token").get<std::string>();
  const auto reload = [&] {
    return http_call(s.c, "POST", s.c.head().http_address(), "/v1/models/mlp-service/reload",
                     token);
  };
  const auto register_version = [&](const std::string& file) {
    const auto imported = s.c.troupe(
        {"model", "register", "mlp", file, "--input-features", "4", "--outputs", "logits"});
    BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.err);
  };
  const auto rows = rows_of(2, 3);
  BOOST_TEST(s.predict(rows)["model_version"] == 1);
  register_version(s.module);  // version 2: the same module, imported
  const auto reloaded = reload();
  BOOST_TEST_REQUIRE(reloaded.status == 200, reloaded.body);
  const auto answer = s.predict(rows);
  BOOST_TEST(answer["model_version"] == 2, answer.dump());
  check_rows(answer["outputs"], forward_pass(s.module, rows));
  // Version 3 cannot load: the reload says so, and version 2 answers on.
  const auto broken = s.c.root() + "/broken.pt";
  std::ofstream(broken) << "not a TorchScript archive\n";
  register_version(broken);
  const auto refused = reload();
  BOOST_TEST(refused.status == 409, refused.body);
  BOOST_TEST(refused.body.find("version 3: ") != std::string::npos, refused.body);
  BOOST_TEST(s.predict(rows)["model_version"] == 2);
}

BOOST_AUTO_TEST_CASE(a_cached_service_answers_from_the_promoted_version_once_that_serves) {
  if (!python_torch()) {
    BOOST_TEST_MESSAGE("skipped: /usr/bin/python3 cannot import torch (install python3-torch)");
    return;
  }
  rank_cluster r(1, 180s);
  train_versions(r, 2);
  production_service service(r, open_cached);
  BOOST_TEST(service.version_answering() == 1);
  BOOST_TEST(service.version_answering() == 1);
  BOOST_TEST(cache_hits(r) >= 1);  // the same rows, from the cache
  service.promote(2);
  BOOST_TEST_REQUIRE(wait_until([&] { return service.version_answering() == 2; }, r.job_limit),
                     r.all_logs(service.job));
  for (int i = 0; i < 5; ++i) BOOST_TEST(service.version_answering() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
