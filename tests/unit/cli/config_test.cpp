#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "tools/cli/config.hpp"

using namespace troupe;
namespace fs = std::filesystem;

namespace {

struct fixture {
  std::map<std::string, std::string> vars;
  fs::path dir;

  fixture() {
    char tmpl[] = "/tmp/troupe-cli-config-XXXXXX";
    dir = ::mkdtemp(tmpl);
    vars["HOME"] = dir.string();
    vars["TROUPE_CREDENTIALS"] = credential_file("env.credentials", "");
  }

  // A valid credential file at `relative`, naming `head_address`.
  std::string credential_file(const std::string& relative, const std::string& head_address) {
    auto c = security::new_credential(msg::key_role::admin,
                                      security::generate_key_pair().public_key, head_address);
    auto path = dir / relative;
    fs::create_directories(path.parent_path());
    security::save_credential(path.string(), c);
    return path.string();
  }
  ~fixture() { fs::remove_all(dir); }

  cli::environment env() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }

  std::string write(const std::string& relative, const std::string& text) {
    auto path = dir / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  cli::result<cli::cli_config> resolve(const cli::cli_flags& flags) {
    return cli::resolve_config(flags, env());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_config)

BOOST_FIXTURE_TEST_CASE(without_any_source_the_head_is_the_local_default, fixture) {
  auto config = resolve({});
  BOOST_TEST_REQUIRE(bool(config));
  BOOST_TEST(config->head == "tcp://127.0.0.1:7400");
  BOOST_TEST(config->timeout.count() == 3000);
  BOOST_TEST(!config->json);
}

BOOST_FIXTURE_TEST_CASE(the_flag_wins_over_the_environment_and_the_config_file, fixture) {
  vars["TROUPE_HEAD"] = "tcp://env:1";
  write(".config/troupe/config.yaml", "head_address: tcp://file:1\n");
  cli::cli_flags flags;
  flags.head = "tcp://flag:1";
  flags.timeout_ms = 250;
  flags.json = true;
  auto config = resolve(flags);
  BOOST_TEST_REQUIRE(bool(config));
  BOOST_TEST(config->head == "tcp://flag:1");
  BOOST_TEST(config->timeout.count() == 250);
  BOOST_TEST(config->json);
}

BOOST_FIXTURE_TEST_CASE(the_environment_wins_over_the_config_file, fixture) {
  vars["TROUPE_HEAD"] = "tcp://env:1";
  write(".config/troupe/config.yaml", "head_address: tcp://file:1\n");
  BOOST_TEST(resolve({})->head == "tcp://env:1");
}

BOOST_FIXTURE_TEST_CASE(the_default_config_file_gives_the_head_address, fixture) {
  write(".config/troupe/config.yaml", "head_address: tcp://file:1\n");
  BOOST_TEST(resolve({})->head == "tcp://file:1");
}

BOOST_FIXTURE_TEST_CASE(a_config_file_named_by_flag_wins_over_troupe_config, fixture) {
  vars["TROUPE_CONFIG"] = write("env.yaml", "head_address: tcp://env-file:1\n");
  cli::cli_flags flags;
  flags.config_file = write("flag.yaml", "head_address: tcp://flag-file:1\n");
  BOOST_TEST(resolve(flags)->head == "tcp://flag-file:1");
  BOOST_TEST(resolve({})->head == "tcp://env-file:1");
}

BOOST_FIXTURE_TEST_CASE(a_named_config_file_that_is_missing_is_a_usage_error, fixture) {
  cli::cli_flags flags;
  flags.config_file = (dir / "missing.yaml").string();
  auto config = resolve(flags);
  BOOST_TEST_REQUIRE(!config);
  BOOST_TEST(int(config.error().exit_code) == 2);
  BOOST_TEST(config.error().message == "config " + flags.config_file + ": cannot read the file");
}

BOOST_FIXTURE_TEST_CASE(a_config_file_that_is_not_yaml_is_a_usage_error_naming_it, fixture) {
  cli::cli_flags flags;
  flags.config_file = write("bad.yaml", "head_address: [1\n");
  auto config = resolve(flags);
  BOOST_TEST_REQUIRE(!config);
  BOOST_TEST(int(config.error().exit_code) == 2);
  BOOST_TEST(config.error().message.rfind("config " + flags.config_file + ": ", 0) == 0u,
             config.error().message);
}

BOOST_FIXTURE_TEST_CASE(the_credentials_flag_wins_over_the_environment_and_the_config, fixture) {
  const auto from_flag = credential_file("flag.credentials", "tcp://flag-cred:1");
  write(".config/troupe/config.yaml",
        "credentials: " + credential_file("file.credentials", "tcp://file-cred:1") + "\n");
  cli::cli_flags flags;
  flags.credentials = from_flag;
  BOOST_TEST(resolve(flags)->credential.head_address == "tcp://flag-cred:1");
  BOOST_TEST(resolve({})->credential.head_address == "");  // TROUPE_CREDENTIALS
  vars.erase("TROUPE_CREDENTIALS");
  BOOST_TEST(resolve({})->credential.head_address == "tcp://file-cred:1");
}

BOOST_FIXTURE_TEST_CASE(the_heads_data_dir_gives_its_admin_credential, fixture) {
  vars.erase("TROUPE_CREDENTIALS");
  credential_file("head/admin.credentials", "tcp://head-machine:7400");
  cli::cli_flags flags;
  flags.data_dir = (dir / "head").string();
  auto config = resolve(flags);
  BOOST_TEST_REQUIRE(bool(config));
  // With no head address given, the credential's is used.
  BOOST_TEST(config->head == "tcp://head-machine:7400");
}

BOOST_FIXTURE_TEST_CASE(without_credentials_every_command_is_a_usage_error, fixture) {
  vars.erase("TROUPE_CREDENTIALS");
  auto config = resolve({});
  BOOST_TEST_REQUIRE(!config);
  BOOST_TEST(int(config.error().exit_code) == 2);
  BOOST_TEST(config.error().message.find("no credentials") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_credential_file_others_can_read_is_refused, fixture) {
  fs::permissions(vars["TROUPE_CREDENTIALS"], fs::perms::others_read, fs::perm_options::add);
  auto config = resolve({});
  BOOST_TEST_REQUIRE(!config);
  BOOST_TEST(int(config.error().exit_code) == 2);
  BOOST_TEST(config.error().message.find("chmod 600") != std::string::npos, config.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
