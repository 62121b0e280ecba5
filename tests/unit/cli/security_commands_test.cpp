// The key commands against a scripted head: credentials for submit keys carry their tenant,
// a tenant that does not fit the role is a usage error before anything is sent, and
// `keys ls` shows each key's tenant.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "messages/print.hpp"
#include "tests/unit/cli/scripted_head.hpp"
#include "tools/cli/commands/security.hpp"

using namespace troupe;
using testing::scripted_head;
using testing::session_with;
namespace fs = std::filesystem;

namespace {

struct out_dir {
  fs::path dir;
  out_dir() {
    char tmpl[] = "/tmp/troupe-cli-keys-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~out_dir() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

msg::key_info key(const std::string& id, msg::key_role role, const std::string& tenant) {
  msg::key_info k;
  k.key_id = id;
  k.role = role;
  k.label = "alice";
  k.tenant = tenant;
  k.created_at_ms = 1'796'000'000'000;
  return k;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(security_commands)

BOOST_FIXTURE_TEST_CASE(a_submit_credential_is_registered_with_its_tenant_and_written, out_dir) {
  scripted_head head({msg::security_message{msg::create_credential_reply{"8899aabbccddeeff"}}});
  const auto path = file("alice.credentials");
  auto out = cli::create_credential(session_with(head), "submit", "ml-research", "alice", path);
  BOOST_TEST_REQUIRE(bool(out));
  BOOST_TEST(*out == "submit key 8899aabbccddeeff for tenant ml-research written to " + path +
                         " (keep it secret; use it with --credentials or TROUPE_CREDENTIALS)\n");
  const auto requests = head.requests();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  const auto& sent =
      std::get<msg::create_credential_request>(std::get<msg::security_message>(requests[0]).body);
  BOOST_TEST(sent.role == msg::key_role::submit);
  BOOST_TEST(sent.tenant == "ml-research");
  BOOST_TEST(sent.label == "alice");
  const auto written = security::load_credential(path);
  BOOST_TEST(written.role == msg::key_role::submit);
  BOOST_TEST(written.keys.public_key == sent.public_key);
}

BOOST_FIXTURE_TEST_CASE(a_tenant_that_does_not_fit_the_role_is_a_usage_error_and_sends_nothing,
                        out_dir) {
  scripted_head head({});
  auto missing = cli::create_credential(session_with(head), "submit", "", "a", file("a"));
  BOOST_TEST_REQUIRE(!missing);
  BOOST_TEST(int(missing.error().exit_code) == 2);
  BOOST_TEST(missing.error().message ==
             "--tenant: a submit key is bound to one tenant: 1 to 128 characters of A-Z, a-z, "
             "0-9, '.', '_', '-'");
  auto bad = cli::create_credential(session_with(head), "submit", "ml research", "b", file("b"));
  BOOST_TEST_REQUIRE(!bad);
  BOOST_TEST(bad.error().message.rfind("--tenant: ", 0) == 0u);
  auto admin = cli::create_credential(session_with(head), "admin", "ml-research", "c", file("c"));
  BOOST_TEST_REQUIRE(!admin);
  BOOST_TEST(int(admin.error().exit_code) == 2);
  BOOST_TEST(admin.error().message ==
             "--tenant: only a submit key has a tenant, not a key of role admin");
  BOOST_TEST(head.requests().empty());
  BOOST_TEST(!fs::exists(file("a")));
}

BOOST_AUTO_TEST_CASE(keys_ls_shows_the_tenant_of_each_submit_key) {
  const msg::key_list_reply listed{{key("00112233aabbccdd", msg::key_role::admin, ""),
                                    key("44556677eeff0011", msg::key_role::submit, "ml-research")}};
  scripted_head head({msg::security_message{listed}, msg::security_message{listed}});
  auto text = cli::list_keys(session_with(head));
  BOOST_TEST_REQUIRE(bool(text));
  BOOST_TEST(*text ==
             "ID                ROLE    STATE   LABEL  NODE  TENANT       CREATED               "
             "EXPIRES\n"
             "00112233aabbccdd  admin   active  alice  -     -            2026-11-30T00:53:20Z  -\n"
             "44556677eeff0011  submit  active  alice  -     ml-research  2026-11-30T00:53:20Z  "
             "-\n");
  auto json = cli::list_keys(session_with(head, true));
  BOOST_TEST_REQUIRE(bool(json));
  const auto keys = nlohmann::json::parse(*json);
  BOOST_TEST(keys[0]["tenant"] == "");
  BOOST_TEST(keys[1]["role"] == "submit");
  BOOST_TEST(keys[1]["tenant"] == "ml-research");
}

BOOST_AUTO_TEST_SUITE_END()
