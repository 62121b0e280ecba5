// Golden encoded messages: tests/data/golden/<kind>.bin were encoded once from the fixed
// values in samples.cpp and committed. Decoding them catches an accidental change of the
// wire format (a renumbered field, a reordered union, a changed type) that round trips
// through one build cannot see.
//
// Regenerate only after a deliberate, append-only schema change:
//   TROUPE_REGENERATE_GOLDEN=1 ctest --test-dir build -R messages_test.golden_messages
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "samples.hpp"

namespace troupe::msg::test {
namespace {

namespace fs = std::filesystem;
namespace utf = boost::unit_test;

fs::path golden_dir() {
  const char* source = std::getenv("TROUPE_SOURCE_DIR");
  BOOST_TEST_REQUIRE(source, "TROUPE_SOURCE_DIR must name the source tree (CTest sets it)");
  return fs::path(source) / "tests" / "data" / "golden";
}

fs::path golden_file(const std::string& kind) { return golden_dir() / (kind + ".bin"); }

// Files an earlier build wrote, before keys had a tenant: kept as they were, never rewritten.
fs::path before_tenants_dir() { return golden_dir() / "before_tenants"; }

// Files written before standbys (StartTaskRequest.afterAttemptId, NodeTasks.waiting).
fs::path before_standbys_dir() { return golden_dir() / "before_standbys"; }

// Files written before task launches named their job's tenant (TaskLaunch.tenant).
fs::path before_launch_tenants_dir() { return golden_dir() / "before_launch_tenants"; }

// A sample as the schema before launches had a tenant could carry it.
envelope without_launch_tenant(envelope env) {
  auto& body = std::get<jobs_message>(env.body).body;
  if (auto* r = std::get_if<start_task_request>(&body)) r->launch.tenant.clear();
  return env;
}

// A sample as the schema before standbys (and so before launch tenants) could carry it.
envelope without_standbys(envelope env) {
  env = without_launch_tenant(std::move(env));
  auto& body = std::get<jobs_message>(env.body).body;
  if (auto* r = std::get_if<start_task_request>(&body)) r->after_attempt_id.clear();
  if (auto* r = std::get_if<node_tasks>(&body)) r->waiting.clear();
  return env;
}

fs::path before_signatures_dir() { return golden_dir() / "before_signatures"; }

// A sample as the schema before model signatures could carry it.
envelope without_signatures(envelope env) {
  const auto unsigned_version = [](model_version& v) {
    v.input_features = 0;
    v.output_kind = models::output_kind::logits;
    v.classes.clear();
    v.source = models::model_source::trained;
  };
  if (auto* m = std::get_if<models_message>(&env.body)) {
    if (auto* r = std::get_if<get_model_reply>(&m->body))
      for (auto& v : r->versions) unsigned_version(v);
    if (auto* r = std::get_if<promote_model_reply>(&m->body)) unsigned_version(r->version);
  }
  if (auto* t = std::get_if<training_message>(&env.body))
    if (auto* r = std::get_if<register_model_request>(&t->body)) {
      r->input_features = 0;
      r->classes.clear();
    }
  return env;
}

fs::path before_replica_figures_dir() { return golden_dir() / "before_replica_figures"; }

// A sample as the schema before replicas' figures (LoadedVersion's queue and passes) and
// ResolveServiceReply.service could carry it.
envelope without_replica_figures(envelope env) {
  auto& body = std::get<inference_message>(env.body).body;
  if (auto* r = std::get_if<replica_report>(&body)) {
    for (auto& v : r->versions) v = {v.version, v.problem, 0, {}, 0};
    r->predict_endpoint.clear();
    r->predict_public_key.clear();
  }
  if (auto* r = std::get_if<resolve_service_reply>(&body)) r->service.clear();
  return env;
}

fs::path before_prediction_sockets_dir() { return golden_dir() / "before_prediction_sockets"; }

// A sample as the schema before replicas' prediction sockets could carry it.
envelope without_prediction_sockets(envelope env) {
  auto& r = std::get<replica_report>(std::get<inference_message>(env.body).body);
  r.predict_endpoint.clear();
  r.predict_public_key.clear();
  return env;
}

// A sample as the schema before tenants could carry it: every tenant empty.
envelope without_tenants(envelope env) {
  auto& body = std::get<security_message>(env.body).body;
  if (auto* r = std::get_if<create_credential_request>(&body)) r->tenant.clear();
  if (auto* r = std::get_if<key_list_reply>(&body))
    for (auto& k : r->keys) k.tenant.clear();
  if (auto* r = std::get_if<revoke_key_reply>(&body)) r->key.tenant.clear();
  return env;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Checks that each file an earlier schema wrote in `dir` decodes to its sample as that schema
// could carry it (`as_then`); returns how many files there are.
size_t earlier_files_decode(const fs::path& dir, envelope (*as_then)(envelope)) {
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto kind = entry.path().stem().string();
    const auto result = decode_string(read_file(entry.path()));
    const auto* failure = std::get_if<decode_failure>(&result);
    BOOST_TEST_REQUIRE(!failure, kind << ": " << (failure ? failure->message : ""));
    BOOST_TEST((std::get<envelope>(result) == as_then(sample_of(kind))),
               kind << " decodes to other values");
    ++files;
  }
  return files;
}

boost::test_tools::assertion_result regeneration_requested(utf::test_unit_id) {
  const char* flag = std::getenv("TROUPE_REGENERATE_GOLDEN");
  const bool requested = flag && std::string(flag) == "1";
  boost::test_tools::assertion_result result(requested);
  result.message() << "set TROUPE_REGENERATE_GOLDEN=1 to rewrite the golden files";
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(golden_messages)

// Runs first (cases run in declaration order), so the checks below see the new files.
BOOST_AUTO_TEST_CASE(golden_files_are_rewritten_from_the_fixed_values_on_request,
                     *utf::precondition(regeneration_requested)) {
  fs::create_directories(golden_dir());
  for (const auto& s : samples()) {
    const auto bytes = encode(s.env);
    std::ofstream out(golden_file(s.kind), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    BOOST_TEST_REQUIRE(out.good(), "cannot write " << golden_file(s.kind));
    BOOST_TEST_MESSAGE("wrote " << golden_file(s.kind) << " (" << bytes.size() << " bytes)");
  }
}

BOOST_AUTO_TEST_CASE(every_committed_golden_file_decodes_to_its_fixed_value) {
  for (const auto& s : samples()) {
    const auto bytes = read_file(golden_file(s.kind));
    const auto result = decode_string(bytes);
    const auto* failure = std::get_if<decode_failure>(&result);
    if (failure) {
      BOOST_ERROR(s.kind << ".bin does not decode: " << failure->message);
      continue;
    }
    BOOST_TEST((std::get<envelope>(result) == s.env), s.kind << ".bin decodes to other values");
  }
}

BOOST_AUTO_TEST_CASE(encoding_the_fixed_values_reproduces_every_golden_file_byte_for_byte) {
  for (const auto& s : samples()) {
    const auto golden = read_file(golden_file(s.kind));
    const auto encoded = encode(s.env);
    BOOST_TEST(encoded.size() == golden.size(), s.kind << ": encoded size differs");
    BOOST_TEST((encoded == golden), s.kind << ": encoded bytes differ from " << s.kind << ".bin");
  }
}

BOOST_AUTO_TEST_CASE(files_written_before_keys_had_tenants_decode_with_empty_tenants) {
  BOOST_TEST(earlier_files_decode(before_tenants_dir(), without_tenants) == 3u);
}

BOOST_AUTO_TEST_CASE(files_written_before_standbys_decode_as_plain_starts_and_reports) {
  BOOST_TEST(earlier_files_decode(before_standbys_dir(), without_standbys) == 2u);
}

BOOST_AUTO_TEST_CASE(files_written_before_launches_had_tenants_decode_with_an_empty_tenant) {
  BOOST_TEST(earlier_files_decode(before_launch_tenants_dir(), without_launch_tenant) == 1u);
}

BOOST_AUTO_TEST_CASE(files_written_before_model_signatures_decode_with_no_signature) {
  BOOST_TEST(earlier_files_decode(before_signatures_dir(), without_signatures) == 3u);
}

BOOST_AUTO_TEST_CASE(files_written_before_replica_figures_decode_with_no_figures_and_no_service) {
  BOOST_TEST(earlier_files_decode(before_replica_figures_dir(), without_replica_figures) == 2u);
}

BOOST_AUTO_TEST_CASE(a_replica_report_written_before_prediction_sockets_decodes_naming_none) {
  BOOST_TEST(earlier_files_decode(before_prediction_sockets_dir(), without_prediction_sockets) ==
             1u);
}

BOOST_AUTO_TEST_CASE(every_golden_file_belongs_to_a_known_message_kind) {
  std::set<std::string> kinds;
  for (const auto& s : samples()) kinds.insert(s.kind + ".bin");
  for (const auto& entry : fs::directory_iterator(golden_dir())) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() != ".bin") continue;
    BOOST_TEST(kinds.count(name) == 1u, name << " has no fixed value in samples.cpp");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::msg::test
