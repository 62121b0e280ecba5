// The head's key registry and its file keys.jsonl: a submit key keeps its tenant across
// restarts, files written before keys had tenants still load, and a line whose tenant does not
// fit its role is refused as corruption.
#define BOOST_TEST_MODULE key_registry
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cluster/security/credentials.hpp"
#include "cluster/security/key_registry.hpp"
#include "messages/print.hpp"

using namespace troupe;
namespace fs = std::filesystem;

namespace {

struct fixture {
  fs::path dir;
  std::string path;

  fixture() {
    char tmpl[] = "/tmp/troupe-key-registry-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = (dir / "keys.jsonl").string();
  }
  ~fixture() { fs::remove_all(dir); }

  void write_lines(const std::string& lines) {
    std::ofstream out(path);
    out << lines;
  }
};

msg::key_info new_key(msg::key_role role, const std::string& tenant = "") {
  const auto pair = security::generate_key_pair();
  msg::key_info k;
  k.key_id = security::key_id_of(pair.public_key);
  k.role = role;
  k.public_key = pair.public_key;
  k.label = "alice";
  k.tenant = tenant;
  k.created_at_ms = 1'796'000'000'000;
  return k;
}

// One `add` line as the registry wrote it before keys had a tenant, or with `tenant` set.
std::string add_line(const msg::key_info& k, const char* role,
                     const std::optional<std::string>& tenant = std::nullopt) {
  nlohmann::json key = {
      {"id", k.key_id},     {"role", role},         {"public_key", k.public_key},
      {"label", k.label},   {"node_id", k.node_id}, {"created_at_ms", k.created_at_ms},
      {"expires_at_ms", 0}, {"revoked_at_ms", 0}};
  if (tenant) key["tenant"] = *tenant;
  return nlohmann::json{{"op", "add"}, {"key", key}}.dump() + "\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_registry)

BOOST_FIXTURE_TEST_CASE(a_submit_key_keeps_its_tenant_across_a_restart, fixture) {
  const auto submit = new_key(msg::key_role::submit, "ml-research");
  {
    security::key_registry keys(path);
    BOOST_TEST_REQUIRE(!keys.add(submit, submit.created_at_ms));
  }
  security::key_registry reloaded(path);
  const auto admitted = reloaded.admit(submit.public_key, submit.created_at_ms);
  BOOST_TEST_REQUIRE(admitted.has_value());
  BOOST_TEST(admitted->role == msg::key_role::submit);
  BOOST_TEST(admitted->tenant == "ml-research");
  BOOST_TEST((reloaded.list() == std::vector<msg::key_info>{submit}));
}

BOOST_FIXTURE_TEST_CASE(a_key_file_written_before_keys_had_tenants_loads_with_no_tenants, fixture) {
  const auto admin = new_key(msg::key_role::admin);
  const auto revoked = new_key(msg::key_role::admin);
  write_lines(add_line(admin, "admin") + add_line(revoked, "admin") +
              nlohmann::json{{"op", "revoke"}, {"id", revoked.key_id}, {"at", 5}}.dump() + "\n");
  security::key_registry keys(path);
  const auto listed = keys.list();
  BOOST_TEST_REQUIRE(listed.size() == 2u);
  for (const auto& k : listed) BOOST_TEST(k.tenant.empty());
  BOOST_TEST(keys.usable(admin.key_id, 10).has_value());
  BOOST_TEST(!keys.usable(revoked.key_id, 10).has_value());
}

BOOST_FIXTURE_TEST_CASE(a_key_line_whose_tenant_does_not_fit_its_role_is_refused_as_corrupt,
                        fixture) {
  const auto key = new_key(msg::key_role::admin);
  for (const auto& line : {add_line(key, "submit"), add_line(key, "submit", std::string("a b")),
                           add_line(key, "admin", std::string("ml-research"))}) {
    write_lines(line);
    BOOST_CHECK_EXCEPTION(security::key_registry{path}, security::security_error,
                          [](const security::security_error& e) {
                            return std::string(e.what()).find("tenant") != std::string::npos;
                          });
  }
}

BOOST_AUTO_TEST_CASE(a_submit_key_needs_a_tenant_name_and_no_other_role_has_one) {
  BOOST_TEST(!security::tenant_problem(msg::key_role::submit, "ml-research"));
  BOOST_TEST(*security::tenant_problem(msg::key_role::submit, "") ==
             "a submit key is bound to one tenant: 1 to 128 characters of A-Z, a-z, 0-9, '.', "
             "'_', '-'");
  BOOST_TEST(security::tenant_problem(msg::key_role::submit, "team/a").has_value());
  BOOST_TEST(!security::tenant_problem(msg::key_role::admin, ""));
  BOOST_TEST(*security::tenant_problem(msg::key_role::admin, "ml-research") ==
             "only a submit key has a tenant, not a key of role admin");
  BOOST_TEST(security::tenant_problem(msg::key_role::node, "ml-research").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
