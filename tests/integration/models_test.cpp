// The model registry through a real head: versions a train job would have registered are
// seeded into the head's store before it starts (the registration path from the job service is
// wired later; the store is what the head serves from), then listed, read and promoted with the
// CLI, across a head restart, and hidden from another tenant's submit key; a version whose
// artifact was uploaded is exported to a file; a TorchScript file made by PyTorch is imported
// with `troupe model register`.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/artifacts/digest.hpp"
#include "cluster/store/store.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;
using nlohmann::json;

namespace {

store::model_version_record trained(const std::string& name, const std::string& tenant,
                                    const std::string& job_id) {
  store::model_version_record v;
  v.name = name;
  v.tenant = tenant;
  v.job_id = job_id;
  v.artifact_digest = std::string(64, 'a');
  v.final_metrics_json = R"({"val_loss":0.3})";
  v.best_metrics_json = R"({"val_loss":0.25})";
  v.params_json = R"({"kind":"train"})";
  v.dataset_fingerprint = "sha256:" + std::string(64, 'd');
  v.created_at_ms = 1'796'000'000'000;
  return v;
}

// A head whose store holds txn v1..v3 (tenant ml) and churn v1 (tenant other).
struct seeded_head {
  cluster c;
  seeded_head() {
    const auto dir = c.root() + "/head";
    std::filesystem::create_directories(dir);
    auto db = store::open_store("sqlite://" + dir + "/troupe.db");
    for (const char* job : {"j1", "j2", "j3"})
      db->models().register_version(trained("txn", "ml", job));
    db->models().register_version(trained("churn", "other", "j4"));
    db.reset();
    c.start_head({"--no-worker"});
  }
  json troupe_json(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = c.troupe(args);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err << c.dump_logs());
    return json::parse(r.out);
  }
  json stages_of(const std::string& name) {
    json stages = json::array();
    const auto model = troupe_json({"model", name});
    for (const auto& v : model["versions"]) stages.push_back(v["stage"]);
    return stages;  // newest first
  }
};

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A head whose store holds txn v1 (its artifact never uploaded) and txn v2, whose artifact
// (model.pt, tenant ml) was uploaded through the CLI.
struct exportable_head {
  cluster c;
  std::string artifact = c.root() + "/model.pt";
  std::string bytes = std::string("a TorchScript archive\0with any bytes\n", 36) +
                      std::string(300'000, 'w');  // more than one download chunk
  exportable_head() {
    std::ofstream(artifact, std::ios::binary) << bytes;
    const auto dir = c.root() + "/head";
    std::filesystem::create_directories(dir);
    auto db = store::open_store("sqlite://" + dir + "/troupe.db");
    db->models().register_version(trained("txn", "ml", "j1"));
    auto uploaded = trained("txn", "ml", "j2");
    uploaded.artifact_digest = artifacts::sha256_hex(bytes);
    db->models().register_version(uploaded);
    db.reset();
    c.start_head({"--no-worker"});
    auto put = c.troupe({"data", "put", artifact, "--kind", "model", "--tenant", "ml"});
    BOOST_TEST_REQUIRE(put.exit_code == 0, put.err << c.dump_logs());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(models_registry)

BOOST_FIXTURE_TEST_CASE(models_are_listed_and_promoted_through_the_cli_and_survive_a_restart,
                        seeded_head) {
  auto listed = troupe_json({"models"});
  BOOST_TEST_REQUIRE(listed.size() == 2u, listed.dump());
  BOOST_TEST(listed[1]["name"] == "txn");
  BOOST_TEST(listed[1]["latest_version"] == 3);

  auto promoted = c.troupe({"model", "promote", "txn@2", "--stage", "production"});
  BOOST_TEST_REQUIRE(promoted.exit_code == 0, promoted.err);
  BOOST_TEST(promoted.out == "txn@2 production\n");
  promoted = c.troupe({"model", "promote", "txn@3", "--stage", "production"});
  BOOST_TEST_REQUIRE(promoted.exit_code == 0, promoted.err);
  BOOST_TEST(promoted.out == "txn@3 production; txn@2 archived\n");
  BOOST_TEST(c.troupe({"model", "promote", "txn@1", "--stage", "staging"}).exit_code == 0);

  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) == 0);
  c.restart_head({"--no-worker"});

  BOOST_TEST(stages_of("txn").dump() == R"(["production","archived","staging"])");
  auto in_production = troupe_json({"model", "txn@production"});
  BOOST_TEST(in_production["versions"][0]["version"] == 3);
  BOOST_TEST(in_production["versions"][0]["params"]["kind"] == "train");
  BOOST_TEST(in_production["stage_changes"].size() == 1u);
  auto human = c.troupe({"model", "txn"});
  BOOST_TEST_REQUIRE(human.exit_code == 0, human.err);
  BOOST_TEST(human.out.find("production  3\n") != std::string::npos, human.out);
  auto missing = c.troupe({"model", "txn@9"});
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(missing.err == "troupe: model txn has no version 9 (not_found)\n");
}

BOOST_FIXTURE_TEST_CASE(a_submit_key_sees_and_promotes_only_its_tenants_models, seeded_head) {
  const auto credentials = c.root() + "/ml.credentials";
  auto created = c.troupe(
      {"credentials", "create", "--role", "submit", "--tenant", "ml", "--out", credentials});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  auto as_ml = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{binary("troupe"), "--head",       c.endpoint(), "--credentials",
                                  credentials,      "--timeout-ms", "2000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  };
  auto listed = as_ml({"models", "--json"});
  BOOST_TEST_REQUIRE(listed.exit_code == 0, listed.err);
  BOOST_TEST(json::parse(listed.out).size() == 1u);
  BOOST_TEST(json::parse(listed.out)[0]["name"] == "txn");
  BOOST_TEST(as_ml({"model", "promote", "txn@1", "--stage", "staging"}).exit_code == 0);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"model", "churn"}, {"model", "promote", "churn@1", "--stage", "production"}}) {
    auto refused = as_ml(args);
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(refused.err == "troupe: no model churn (not_found)\n");
  }
  BOOST_TEST(stages_of("churn").dump() == R"(["none"])");
}

BOOST_FIXTURE_TEST_CASE(an_exported_version_has_the_bytes_of_its_artifact, exportable_head) {
  const auto out = c.root() + "/exported.pt";
  auto exported = c.troupe({"model", "export", "txn@2", out});
  BOOST_TEST_REQUIRE(exported.exit_code == 0, exported.err << c.dump_logs());
  BOOST_TEST(exported.out == artifacts::sha256_hex(bytes) + "  " + out + "\n");
  BOOST_TEST(contents(out) == bytes);

  BOOST_TEST(c.troupe({"model", "promote", "txn@2", "--stage", "production"}).exit_code == 0);
  const auto by_stage = c.root() + "/production.pt";
  exported = c.troupe({"model", "export", "txn@production", by_stage, "--json"});
  BOOST_TEST_REQUIRE(exported.exit_code == 0, exported.err);
  const auto shown = json::parse(exported.out);
  BOOST_TEST(shown["model"]["version"] == 2);
  BOOST_TEST(shown["file"] == by_stage);
  BOOST_TEST(contents(by_stage) == bytes);
  const auto newest = c.root() + "/newest.pt";
  BOOST_TEST(c.troupe({"model", "export", "txn", newest}).exit_code == 0);
  BOOST_TEST(contents(newest) == bytes);
}

BOOST_FIXTURE_TEST_CASE(exporting_an_unknown_version_or_one_without_its_artifact_is_refused,
                        exportable_head) {
  const auto out = c.root() + "/exported.pt";
  auto unknown = c.troupe({"model", "export", "txn@9", out});
  BOOST_TEST(unknown.exit_code == 1);
  BOOST_TEST(unknown.err == "troupe: model txn has no version 9 (not_found)\n");
  auto no_model = c.troupe({"model", "export", "churn@1", out});
  BOOST_TEST(no_model.exit_code == 1);
  BOOST_TEST(no_model.err == "troupe: no model churn (not_found)\n");
  auto missing = c.troupe({"model", "export", "txn@1", out});
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(missing.err ==
             "troupe: txn@1: no artifact " + std::string(64, 'a') + " (not_found)\n");
  BOOST_TEST(!std::filesystem::exists(out));
  BOOST_TEST(!std::filesystem::exists(out + ".part"));
  auto bad_ref = c.troupe({"model", "export", "txn@", out});
  BOOST_TEST(bad_ref.exit_code == 2);
}

// A head with an empty registry and a TorchScript classifier made by Debian's PyTorch.
struct import_head {
  cluster c;
  std::string file = c.root() + "/mlp.pt";
  import_head() {
    const auto made = run_command(
        {"/usr/bin/python3", "-c",
         "import sys, torch\n"
         "m = torch.nn.Sequential(torch.nn.Linear(52, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3),"
         " torch.nn.Softmax(dim=1))\n"
         "torch.jit.script(m).save(sys.argv[1])\n",
         file},
        std::chrono::seconds(120));
    BOOST_TEST_REQUIRE(made.exit_code == 0, "python3-torch: " << made.err);
    c.start_head({"--no-worker"});
  }
};

BOOST_FIXTURE_TEST_CASE(a_torchscript_file_made_by_pytorch_is_imported_as_the_next_version,
                        import_head) {
  auto imported = c.troupe({"model", "register", "txn-import", file, "--input-features", "52",
                            "--classes", "food,rent,travel", "--json"});
  BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.err << c.dump_logs());
  const auto v = json::parse(imported.out);
  BOOST_TEST(v["version"] == 1);
  BOOST_TEST(v["source"] == "imported");
  BOOST_TEST(v["job_id"] == "");
  BOOST_TEST(v["input_features"] == 52);
  BOOST_TEST(v["outputs"] == "probabilities");
  BOOST_TEST(v["classes"] == json({"food", "rent", "travel"}));
  BOOST_TEST(v["artifact_digest"] == artifacts::sha256_hex(contents(file)));

  // The same file again (a retry): the same version. Another file: the next one.
  auto again = c.troupe({"model", "register", "txn-import", file, "--input-features", "52",
                         "--classes", "food,rent,travel"});
  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(again.out == "txn-import@1 " + v["artifact_digest"].get<std::string>() + "\n");
  const auto other = c.root() + "/other.pt";
  std::ofstream(other, std::ios::binary) << contents(file) << "\n";
  auto second =
      c.troupe({"--json", "model", "register", "txn-import", other, "--outputs", "values"});
  BOOST_TEST_REQUIRE(second.exit_code == 0, second.err);
  BOOST_TEST(json::parse(second.out)["version"] == 2);
  BOOST_TEST(json::parse(second.out)["input_features"].is_null());

  auto shown = c.troupe({"model", "txn-import@1"});
  BOOST_TEST(shown.exit_code == 0, shown.err);
  BOOST_TEST(shown.out.find("probabilities from 52 features; classes food rent travel") !=
                 std::string::npos,
             shown.out);
  const auto out = c.root() + "/exported.pt";
  BOOST_TEST(c.troupe({"model", "export", "txn-import@1", out}).exit_code == 0);
  BOOST_TEST(contents(out) == contents(file));
}

BOOST_FIXTURE_TEST_CASE(a_model_register_with_a_bad_argument_is_refused_and_stores_nothing,
                        import_head) {
  auto bad_name = c.troupe({"model", "register", "x y", file});
  BOOST_TEST(bad_name.exit_code == 2, bad_name.err);
  auto bad_outputs = c.troupe({"model", "register", "m", file, "--outputs", "scores"});
  BOOST_TEST(bad_outputs.exit_code == 2, bad_outputs.err);
  BOOST_TEST(bad_outputs.err.find("--outputs: logits, probabilities or values, not scores") !=
                 std::string::npos,
             bad_outputs.err);
  auto missing = c.troupe({"model", "register", "m", c.root() + "/none.pt"});
  BOOST_TEST(missing.exit_code == 2, missing.err);
  auto twice = c.troupe({"model", "register", "m", file, "--classes", "a,b,a"});
  BOOST_TEST(twice.exit_code == 1);
  BOOST_TEST(twice.err == "troupe: classes: the label `a` is given twice (invalid_request)\n");
  auto too_wide = c.troupe({"model", "register", "m", file, "--input-features", "70000"});
  BOOST_TEST(too_wide.exit_code == 1);
  BOOST_TEST(too_wide.err == "troupe: input_features: at most 65536 (invalid_request)\n");
  auto models = c.troupe({"models", "--json"});
  BOOST_TEST(json::parse(models.out).empty(), models.out);
}

BOOST_AUTO_TEST_SUITE_END()
