// Application tokens on a real head (docs/http.md): made, listed and revoked with the CLI, kept
// across a restart, checked by the head's HTTP endpoints (401, 403, 429 with Retry-After), and
// never written to the head's log.
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include "tests/integration/http_calls.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;
using nlohmann::json;
using troupe::test::http_call;

namespace {

// Makes a token with the CLI; returns its secret.
std::string create_token(cluster& c, std::vector<std::string> flags) {
  std::vector<std::string> args{"--json", "token", "create"};
  args.insert(args.end(), flags.begin(), flags.end());
  auto r = c.troupe(args);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out + r.err + c.dump_logs());
  return json::parse(r.out).at("token").get<std::string>();
}

json error_of(const test::http_answer& a) {
  return json::parse(a.body, nullptr, false).value("error", json());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(app_tokens)

BOOST_AUTO_TEST_CASE(tokens_are_checked_kept_across_a_restart_revoked_and_never_logged) {
  cluster c;
  c.start_head();
  const auto app = create_token(c, {"--name", "app1", "--role", "predict"});
  const auto ops = create_token(c, {"--name", "ops", "--role", "manage", "--tenant", "finance"});
  const auto slow =
      create_token(c, {"--name", "slow", "--role", "predict", "--rate-limit-per-s", "1"});
  BOOST_TEST(app.size() == 71u);
  auto http = c.head().http_address();

  auto listed = http_call(c, "GET", http, "/v1/models", app);
  BOOST_TEST(listed.status == 200);
  BOOST_TEST(listed.body == R"({"models":[]})");
  auto none = http_call(c, "GET", http, "/v1/models");
  BOOST_TEST(none.status == 401);
  BOOST_TEST(error_of(none) == "a bearer token is required (Authorization: Bearer TOKEN)");
  BOOST_TEST(http_call(c, "GET", http, "/v1/models", "troupe_" + std::string(64, '0')).status ==
             401);
  auto reload = http_call(c, "POST", http, "/v1/models/txn/reload", app);
  BOOST_TEST(reload.status == 403);
  BOOST_TEST(error_of(reload) ==
             "token app1 may not call POST /v1/models/txn/reload (it needs role manage)");
  auto unknown = http_call(c, "POST", http, "/v1/models/txn/reload", ops);
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(error_of(unknown) == "unknown model: txn");
  auto predict = http_call(c, "POST", http, "/v1/models/txn/predict", app, R"({"features": [1]})");
  BOOST_TEST(predict.status == 404);

  // A bucket of 1 a second and a burst of 1: a few calls in a row meet it empty.
  BOOST_TEST(http_call(c, "GET", http, "/v1/models", slow).status == 200);
  test::http_answer limited;
  for (int i = 0; i < 5 && limited.status != 429; ++i)
    limited = http_call(c, "GET", http, "/v1/models", slow);
  BOOST_TEST(limited.status == 429);
  BOOST_TEST(error_of(limited) == "token slow is over its rate limit");
  BOOST_TEST(limited.headers.find("Retry-After: 1\r\n") != std::string::npos, limited.headers);

  auto ls = c.troupe({"--json", "token", "ls"});
  BOOST_TEST_REQUIRE(ls.exit_code == 0, ls.err);
  auto tokens = json::parse(ls.out);
  BOOST_TEST(tokens.size() == 3u);
  BOOST_TEST(tokens[1].at("tenant") == "finance");
  BOOST_TEST(tokens[2].at("rate_limit_per_s") == 1);
  for (const auto& secret : {app, ops, slow})
    BOOST_TEST(ls.out.find(secret.substr(7)) == std::string::npos);

  auto revoked = c.troupe({"token", "revoke", "app1"});
  BOOST_TEST(revoked.exit_code == 0, revoked.err);
  auto refused = http_call(c, "GET", http, "/v1/models", app);
  BOOST_TEST(refused.status == 401);
  BOOST_TEST(error_of(refused) == "token app1 is revoked");
  auto again = c.troupe({"token", "create", "--name", "app1", "--role", "predict"});
  BOOST_TEST(again.exit_code != 0);
  BOOST_TEST(again.err.find("a token named app1 exists") != std::string::npos, again.err);

  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(15s) == 0, c.dump_logs());
  c.restart_head();
  http = c.head().http_address();
  BOOST_TEST(http_call(c, "GET", http, "/v1/models", ops).status == 200);
  BOOST_TEST(http_call(c, "GET", http, "/v1/models", app).status == 401);

  const auto log = c.head().log();
  for (const auto& secret : {app, ops, slow}) {
    BOOST_TEST(log.find(secret.substr(7)) == std::string::npos);
    BOOST_TEST(log.find(secret.substr(7, 16)) == std::string::npos);
  }
  BOOST_TEST(log.find("app token app1 (role predict) created") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(bad_token_requests_are_refused_by_the_head_naming_the_problem) {
  cluster c;
  c.start_head();
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--name", "bad name", "--role", "predict"}, "`name`: a token's name is 1 to 64"},
      {{"--name", "a", "--role", "predict", "--tenant", "no tenant"}, "`tenant` must be empty or"},
      {{"--name", "a", "--role", "everything"}, "--role: predict or manage"},
      {{"--name", "a", "--role", "predict", "--burst", "5"}, "--burst needs --rate-limit-per-s"},
  };
  for (const auto& [flags, message] : cases) {
    std::vector<std::string> args{"token", "create"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = c.troupe(args);
    BOOST_TEST(r.exit_code != 0);
    BOOST_TEST(r.err.find(message) != std::string::npos, r.err);
  }
  auto revoke = c.troupe({"token", "revoke", "nobody"});
  BOOST_TEST(revoke.exit_code != 0);
  BOOST_TEST(revoke.err.find("no token is named nobody") != std::string::npos, revoke.err);
}

BOOST_AUTO_TEST_SUITE_END()
