// Nothing a peer sends or a setting says can wedge a daemon, and nothing untrusted or secret
// reaches a log as is: live heads fed hostile registrations and frames, trouped started with
// the settings the issue found, and the head's log read back.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;

namespace {

msg::register_node_request registration(const std::string& name) {
  msg::register_node_request r;
  char id[33];  // 32 hex digits, as node ids are
  const auto h = static_cast<unsigned long long>(std::hash<std::string>{}(name));
  std::snprintf(id, sizeof id, "%016llx%016llx", h, ~h);
  r.node_id = id;
  r.name = name;
  r.incarnation = 1;
  r.addresses = {"tcp://10.0.0.9:7100"};
  r.resources.cpus = 2;
  r.resources.memory_mb = 1024;
  r.resources.gpus = {{0, "NVIDIA H100 80GB HBM3", 81'559}};
  r.labels = {{"zone", "a"}};
  r.version = "test";
  return r;
}

std::string node_list_frame(uint64_t request_id) {
  msg::envelope env;
  env.request_id = request_id;
  env.body = msg::node_list_request{};
  return msg::encode(env);
}

msg::error error_in(const std::optional<msg::envelope>& reply) {
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(reply->body));
  return std::get<msg::error>(reply->body);
}

bool answers_a_node_list(transport::request_client& client) {
  auto reply = client.call(msg::node_list_request{}, std::chrono::seconds(5));
  return reply && std::holds_alternative<msg::node_list_reply>(reply->body);
}

// Whether some line of `text` starts with `prefix`.
bool has_line_starting_with(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.compare(0, prefix.size(), prefix) == 0) return true;
  return false;
}

struct head_only {
  cluster c;
  head_only() { c.start_head({"--no-worker"}); }
};

// `trouped args...` with a data dir of its own, to completion.
command_result trouped(const cluster& c, std::vector<std::string> args) {
  args.insert(args.begin(), binary("trouped"));
  args.insert(args.end(), {"--data-dir", c.root() + "/refused"});
  return run_command(args, 10s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_input)

BOOST_FIXTURE_TEST_CASE(a_registration_with_invalid_utf8_gets_an_error_and_the_head_stays_up,
                        head_only) {
  transport::request_client client(c.endpoint(), "hostile",
                                   c.enroll_node_key(registration("n1").node_id, "n1"));
  transport::request_client admin(c.endpoint(), "admin", c.admin_keys());
  using spoil = std::function<void(msg::register_node_request&, const std::string&)>;
  const std::pair<const char*, spoil> fields[] = {
      {"address", [](auto& r, const auto& bad) { r.addresses = {bad}; }},
      {"label", [](auto& r, const auto& bad) { r.labels["zone"] = bad; }},
      {"gpu name", [](auto& r, const auto& bad) { r.resources.gpus[0].name = bad; }},
  };
  for (const std::string bad : {"h\xff", "\xc0\x80"}) {
    for (const auto& [field, set] : fields) {
      auto request = registration("n1");
      set(request, bad);
      const auto err = error_in(client.call(request, std::chrono::seconds(5)));
      BOOST_TEST(err.code == msg::error_code::invalid_request, field);
      BOOST_TEST(err.message.find("UTF-8") != std::string::npos, field << ": " << err.message);
      BOOST_TEST_REQUIRE(answers_a_node_list(admin), c.dump_logs());
    }
  }
  c.head().signal(SIGTERM);
  BOOST_TEST(c.head().wait_exit(10s) == 0, c.dump_logs());
}

BOOST_FIXTURE_TEST_CASE(a_malformed_frame_is_answered_without_source_locations_or_a_stack,
                        head_only) {
  transport::request_client client(c.endpoint(), "hostile", c.admin_keys());
  auto frame = node_list_frame(41);
  frame[0] = '\x7f';  // a segment count Cap'n Proto refuses
  client.send_raw(frame);
  auto reply = client.receive(std::chrono::seconds(5));
  BOOST_TEST_REQUIRE(reply.has_value());
  const auto err = error_in(std::get<msg::envelope>(*reply));
  BOOST_TEST(err.message.find("malformed message") != std::string::npos, err.message);
  BOOST_TEST(err.message.find(".c++") == std::string::npos, err.message);
  BOOST_TEST(err.message.find("stack:") == std::string::npos, err.message);
  BOOST_TEST(answers_a_node_list(client));
}

BOOST_FIXTURE_TEST_CASE(a_readable_envelope_with_trailing_words_is_answered_with_its_request_id,
                        head_only) {
  transport::request_client client(c.endpoint(), "hostile", c.admin_keys());
  client.send_raw(node_list_frame(4242) + std::string(16, '\0'));
  auto reply = client.receive(std::chrono::seconds(5));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::envelope>(*reply));
  BOOST_TEST(std::get<msg::envelope>(*reply).request_id == 4242u);
  BOOST_TEST(error_in(std::get<msg::envelope>(*reply)).message.find("follow the message") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_settings)

BOOST_AUTO_TEST_CASE(every_bad_setting_the_issue_found_stops_trouped_with_exit_code_2) {
  cluster c;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--head", "--listen", "tcp://127.0.0.1:99999"}, "`listen`"},
      {{"--head", "--listen", "tcp://nonsense"}, "`listen`"},
      {{"--join", "tcp://127.0.0.1:0"}, "`join`"},
      {{"--head", "--memory-mb", "-5"}, "--memory-mb"},
      {{"--head", "--gpus", "4000000000"}, "`gpus`"},
      {{"--head", "--cpus", "nan"}, "`cpus`"},
      {{"--head", "--name", "evil\nname"}, "`name`"},
      {{"--head", "--name", "esc\x1b[31m"}, "`name`"},
      {{"--head", "--name", std::string(10'000, 'n')}, "`name`"},
      {{"--head", "--label", "zone=\x1b[2J"}, "label `zone`"},
  };
  for (const auto& [args, setting] : cases) {
    const auto result = trouped(c, args);
    BOOST_TEST(result.exit_code == 2, setting << ": " << result.err);
    BOOST_TEST(result.err.find(setting) != std::string::npos, result.err);
  }
}

BOOST_AUTO_TEST_CASE(bad_numbers_in_the_yaml_file_stop_trouped_with_exit_code_2) {
  cluster c;
  const std::pair<const char*, const char*> cases[] = {
      {"failure_detector: {window: 4000000000}", "failure_detector.window"},
      {"failure_detector: {suspect_phi: .nan}", "failure_detector.suspect_phi"},
      {"failure_detector: {dead_phi: .inf}", "failure_detector.dead_phi"},
      {"cpus: .nan", "cpus"},
      {"register_retry_ms: 4000000000", "register_retry_ms"},
  };
  for (const auto& [yaml, setting] : cases) {
    const auto file = c.root() + "/trouped.yaml";
    std::ofstream(file) << "head: true\n" << yaml << "\n";
    const auto result = trouped(c, {"--config", file});
    BOOST_TEST(result.exit_code == 2, yaml << ": " << result.err);
    BOOST_TEST(result.err.find(setting) != std::string::npos, result.err);
  }
}

BOOST_AUTO_TEST_CASE(a_listen_address_that_cannot_be_bound_is_named_when_trouped_stops) {
  cluster c;
  const auto result = trouped(c, {"--head", "--listen", "tcp://no-such-interface:0"});
  BOOST_TEST(result.exit_code == 1, result.err);
  BOOST_TEST(result.err.find("`listen` tcp://no-such-interface:0") != std::string::npos,
             result.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(log_safety)

BOOST_FIXTURE_TEST_CASE(a_name_with_a_newline_cannot_forge_a_line_of_the_head_log, head_only) {
  const std::string forged = "2026-12-01T00:00:00.000 critical forged";
  auto request = registration("n1\n" + forged);
  transport::request_client client(c.endpoint(), "hostile",
                                   c.enroll_node_key(request.node_id, "n1"));
  BOOST_TEST(error_in(client.call(request, std::chrono::seconds(5))).code ==
             msg::error_code::invalid_request);
  transport::request_client admin(c.endpoint(), "admin", c.admin_keys());
  BOOST_TEST_REQUIRE(answers_a_node_list(admin));
  BOOST_TEST(wait_until(
      [&] { return c.head().log().find("refused registration") != std::string::npos; }, 5s));
  const auto log = c.head().log();
  BOOST_TEST(!has_line_starting_with(log, forged), log);
  BOOST_TEST(log.find("n1\\n" + forged) != std::string::npos, log);
}

BOOST_FIXTURE_TEST_CASE(an_accepted_name_with_a_bidi_control_is_logged_escaped, head_only) {
  const auto request = registration("evil\xe2\x80\xaetxt.exe");
  transport::request_client client(c.endpoint(), "hostile",
                                   c.enroll_node_key(request.node_id, "evil"));
  auto reply = client.call(request, std::chrono::seconds(5));
  BOOST_TEST_REQUIRE(reply.has_value());
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::register_node_reply>(reply->body));
  BOOST_TEST(
      wait_until([&] { return c.head().log().find("evil\\u202etxt.exe") != std::string::npos; },
                 5s),
      c.head().log());
  BOOST_TEST(c.head().log().find("\xe2\x80\xae") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_store_password_in_a_key_value_string_never_reaches_an_error_or_log) {
  cluster c;
  const auto result = trouped(c, {"--head", "--log-file", c.root() + "/head.log", "--store",
                                  "host=127.0.0.1 password=S3cretPass dbname=troupe"});
  BOOST_TEST(result.exit_code == 1, result.err);
  BOOST_TEST(result.err.find("password=***") != std::string::npos, result.err);
  std::ifstream file(c.root() + "/head.log");
  const std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  for (const auto& text : {result.out, result.err, log})
    BOOST_TEST(text.find("S3cretPass") == std::string::npos, text);
}

// Needs the throwaway server of tools/test.sh (TROUPE_TEST_POSTGRES_URL), which trusts every
// connection: the password in the URL is never checked, only printed.
BOOST_AUTO_TEST_CASE(the_postgresql_password_is_hidden_in_the_heads_start_line) {
  const char* server = std::getenv("TROUPE_TEST_POSTGRES_URL");
  BOOST_TEST_REQUIRE((server && *server),
                     "TROUPE_TEST_POSTGRES_URL is not set: run this with tools/test.sh");
  std::string url = server;
  const auto at = url.find('@');
  BOOST_TEST_REQUIRE(at != std::string::npos, url);
  url.insert(at, ":S3cretPass");
  cluster c;
  c.start_head({"--no-worker", "--store", url});
  BOOST_TEST_REQUIRE(
      wait_until([&] { return c.head().log().find("head listening") != std::string::npos; }, 10s));
  const auto log = c.head().log();
  BOOST_TEST(log.find("S3cretPass") == std::string::npos, log);
  BOOST_TEST(log.find(":***@") != std::string::npos, log);
}

BOOST_AUTO_TEST_SUITE_END()
