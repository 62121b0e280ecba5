// Tenants of jobs end to end on one_node (docs/jobs.md): a submit key of one tenant manages its
// own jobs and sees no other's, may not submit to another tenant, and an admin sees them all.
#include <boost/test/unit_test.hpp>
#include <set>

#include "tests/integration/jobs_support.hpp"

using namespace troupe;
using namespace troupe::local;
using namespace troupe::local::jobs_testing;

BOOST_AUTO_TEST_SUITE(jobs_tenants)

// one_node plus a submit key of tenant ml, and a job of tenant other submitted by the admin.
struct two_tenants : one_node {
  std::string credentials = c.root() + "/ml.credentials";
  std::string other_job;
  two_tenants() {
    auto created = c.troupe(
        {"credentials", "create", "--role", "submit", "--tenant", "ml", "--out", credentials});
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    other_job = submit("name: theirs\nkind: command\ntenant: other\nargv: [\"sleep\", \"1000\"]\n");
  }
  command_result as_ml(std::vector<std::string> args) const {
    std::vector<std::string> argv{binary("troupe"), "--head",       c.endpoint(), "--credentials",
                                  credentials,      "--timeout-ms", "2000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }
};

BOOST_FIXTURE_TEST_CASE(a_submit_key_manages_its_tenants_jobs_and_sees_no_other, two_tenants) {
  auto submitted =
      as_ml({"submit", spec_file("name: mine\nkind: command\nargv: [sleep, '1000']\n")});
  BOOST_TEST_REQUIRE(submitted.exit_code == 0, submitted.err);
  const auto mine = submitted.out.substr(0, submitted.out.find('\n'));

  auto listed = as_ml({"jobs", "--json"});
  BOOST_TEST_REQUIRE(listed.exit_code == 0, listed.err);
  const auto visible = json::parse(listed.out);
  BOOST_TEST_REQUIRE(visible.size() == 1u, visible.dump());
  BOOST_TEST(visible[0]["id"] == mine);
  BOOST_TEST(visible[0]["tenant"] == "ml");
  BOOST_TEST(json::parse(as_ml({"jobs", "--json", "--tenant", "other"}).out).empty());

  auto got = as_ml({"job", mine, "--json"});
  BOOST_TEST_REQUIRE(got.exit_code == 0, got.err);
  BOOST_TEST(json::parse(got.out)["tenant"] == "ml");
  BOOST_TEST(as_ml({"logs", mine}).exit_code == 0);

  for (const auto& command : {"job", "cancel", "logs"}) {
    auto refused = as_ml({command, other_job});
    BOOST_TEST(refused.exit_code == 1, command);
    BOOST_TEST(contains(refused.err, "(not_found)"), refused.err);
  }
  BOOST_TEST(job(other_job)["state"] != "CANCELLED");

  auto cancelled = as_ml({"cancel", mine});
  BOOST_TEST(cancelled.exit_code == 0, cancelled.err);
  BOOST_TEST(job(mine)["state"] == "CANCELLED");
}

BOOST_FIXTURE_TEST_CASE(a_submit_key_may_not_submit_to_another_tenant, two_tenants) {
  auto refused = as_ml(
      {"submit", spec_file("name: sneaky\nkind: command\ntenant: other\nargv: [\"true\"]\n")});
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(contains(refused.err, "tenant: "), refused.err);
  BOOST_TEST(jobs().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_admin_sees_every_tenants_jobs, two_tenants) {
  auto submitted = as_ml({"submit", spec_file("name: mine\nkind: command\nargv: [\"true\"]\n")});
  BOOST_TEST_REQUIRE(submitted.exit_code == 0, submitted.err);
  const auto all = jobs();
  BOOST_TEST_REQUIRE(all.size() == 2u, all.dump());
  std::set<std::string> tenants;
  for (const auto& j : all) tenants.insert(j["tenant"].get<std::string>());
  BOOST_TEST((tenants == std::set<std::string>{"ml", "other"}));
  BOOST_TEST(jobs({"--tenant", "ml"}).size() == 1u);
  BOOST_TEST(c.troupe({"cancel", other_job}).exit_code == 0);
  BOOST_TEST(job(other_job)["state"] == "CANCELLED");
}

BOOST_AUTO_TEST_SUITE_END()
