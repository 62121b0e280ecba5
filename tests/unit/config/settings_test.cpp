#define BOOST_TEST_MODULE config
#include <unistd.h>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>

#include "config/daemon_args.hpp"
#include "config/endpoint.hpp"
#include "config/port_range.hpp"

using namespace troupe::config;

namespace {

parsed_args parse(std::vector<std::string> args) {
  args.insert(args.begin(), "trouped");
  return parse_daemon_args(args);
}

// A YAML file removed at the end of the test.
struct yaml_file {
  std::string path;
  explicit yaml_file(const std::string& content) {
    char name[] = "/tmp/troupe-config-XXXXXX";
    int fd = ::mkstemp(name);
    ::close(fd);
    path = name;
    std::ofstream(path) << content;
  }
  ~yaml_file() { std::remove(path.c_str()); }
};

bool refused(std::vector<std::string> args, const std::string& needle) {
  try {
    parse(std::move(args));
  } catch (const config_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_settings)

BOOST_AUTO_TEST_CASE(flags_fill_the_settings) {
  auto s =
      parse({"--join", "tcp://10.0.0.1:7400", "--data-dir", "/d", "--name", "n1", "--cpus", "3.5",
             "--memory-mb", "2048", "--gpus", "2", "--label", "zone=a", "--label", "disk=ssd"})
          .settings;
  BOOST_TEST(!s.head);
  BOOST_TEST(s.join == "tcp://10.0.0.1:7400");
  BOOST_TEST(*s.cpus == 3.5);
  BOOST_TEST(*s.memory_mb == 2048u);
  BOOST_TEST(*s.gpus == 2u);
  BOOST_TEST(s.labels.at("zone") == "a");
  BOOST_TEST(s.labels.at("disk") == "ssd");
  BOOST_TEST(s.heartbeat_interval_ms == 200u);
}

BOOST_AUTO_TEST_CASE(yaml_sets_values_and_flags_win) {
  yaml_file f(
      "head: true\nlisten: tcp://127.0.0.1:7500\ndata_dir: /from/yaml\nname: from-yaml\n"
      "labels: {zone: b}\nfailure_detector: {dead_phi: 10, min_std_dev_ms: 50}\n");
  auto s = parse({"--config", f.path, "--name", "from-flag"}).settings;
  BOOST_TEST(s.head);
  BOOST_TEST(s.listen == "tcp://127.0.0.1:7500");
  BOOST_TEST(s.data_dir == "/from/yaml");
  BOOST_TEST(s.name == "from-flag");
  BOOST_TEST(s.labels.at("zone") == "b");
  BOOST_TEST(s.failure_detector.dead_phi == 10.0);
  BOOST_TEST(s.failure_detector.min_std_dev_ms == 50u);
  BOOST_TEST(s.failure_detector.suspect_phi == 3.0);
}

BOOST_AUTO_TEST_CASE(the_artifact_cache_holds_20_gib_unless_a_flag_or_yaml_says_otherwise) {
  BOOST_TEST(parse({"--head", "--data-dir", "/d"}).settings.artifact_cache_mb == 20'480u);
  BOOST_TEST(parse({"--head", "--data-dir", "/d", "--artifact-cache-mb", "512"})
                 .settings.artifact_cache_mb == 512u);
  yaml_file f("head: true\ndata_dir: /d\nartifact_cache_mb: 1024\n");
  BOOST_TEST(parse({"--config", f.path}).settings.artifact_cache_mb == 1024u);
}

BOOST_AUTO_TEST_CASE(a_head_serves_http_on_7480_by_default_and_a_node_on_nothing) {
  auto head = parse({"--head", "--data-dir", "/d"}).settings;
  auto at = http_endpoint(head);
  BOOST_REQUIRE(at);
  BOOST_TEST(at->host == "127.0.0.1");
  BOOST_TEST(at->port == 7480u);
  BOOST_TEST(!http_endpoint(parse({"--join", "tcp://h:1", "--data-dir", "/d"}).settings));
  BOOST_TEST(
      !http_endpoint(parse({"--head", "--data-dir", "/d", "--http-listen", "off"}).settings));
  yaml_file f("join: tcp://h:1\ndata_dir: /d\nhttp_listen: '*:0'\nhttp_io_threads: 2\n");
  auto node = parse({"--config", f.path}).settings;
  at = http_endpoint(node);
  BOOST_REQUIRE(at);
  BOOST_TEST(at->host == "0.0.0.0");
  BOOST_TEST(at->port == 0u);
  BOOST_TEST(node.http_io_threads == 2u);
}

BOOST_AUTO_TEST_CASE(bad_http_settings_are_refused_naming_the_setting) {
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--http-listen", "tcp://h:1"}, "HOST:PORT"));
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--http-listen", "h:70000"}, "http_listen"));
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--http-io-threads", "0"}, "http_io_threads"));
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--http-max-body-bytes", "10"},
                     "http_max_body_bytes"));
}

BOOST_AUTO_TEST_CASE(serve_ports_are_a_range_of_unprivileged_ports) {
  BOOST_TEST(!parse({"--head", "--data-dir", "/d"}).settings.serve_ports);
  BOOST_TEST(
      *parse({"--head", "--data-dir", "/d", "--serve-ports", "40000-40099"}).settings.serve_ports ==
      "40000-40099");
  yaml_file f("head: true\ndata_dir: /d\nserve_ports: 1024-1024\n");
  BOOST_TEST(*parse({"--config", f.path}).settings.serve_ports == "1024-1024");
  for (const char* bad : {"40000", "40099-40000", "80-90", "40000-70000", "-1-5", "a-b",
                          "+2000-3000", "2000-", "2000-3000-4000"})
    BOOST_TEST(refused({"--head", "--data-dir", "/d", "--serve-ports", bad}, "serve_ports"), bad);
  const auto range = parse_port_range("40000-40099");
  BOOST_TEST_REQUIRE(range.has_value());
  BOOST_TEST(range->low == 40000u);
  BOOST_TEST(range->high == 40099u);
}

BOOST_AUTO_TEST_CASE(an_unknown_yaml_key_is_named) {
  yaml_file f("head: true\ndata_dir: /d\nlisen: tcp://x:1\n");
  BOOST_TEST(refused({"--config", f.path}, "unknown setting `lisen`"));
}

BOOST_AUTO_TEST_CASE(a_mistyped_yaml_value_is_named) {
  yaml_file f("head: true\ndata_dir: /d\nheartbeat_interval_ms: often\n");
  BOOST_TEST(refused({"--config", f.path}, "heartbeat_interval_ms"));
}

BOOST_AUTO_TEST_CASE(a_missing_config_file_is_an_error) {
  BOOST_TEST(refused({"--config", "/no/such/file.yaml"}, "/no/such/file.yaml"));
}

BOOST_AUTO_TEST_CASE(invalid_combinations_are_refused) {
  BOOST_TEST(refused({"--data-dir", "/d"}, "--join"));
  BOOST_TEST(refused({"--head", "--join", "tcp://h:1", "--data-dir", "/d"}, "exclude"));
  BOOST_TEST(refused({"--join", "h:1", "--data-dir", "/d"}, "tcp://HOST:PORT"));
  BOOST_TEST(refused({"--head"}, "data_dir"));
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--cpus", "0"}, "cpus"));
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--label", "novalue"}, "key=value"));
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--log-level", "loud"}, "log_level"));
  BOOST_TEST(refused({"--head", "--data-dir", "/d", "--no-such-flag"}, "no-such-flag"));
}

BOOST_AUTO_TEST_CASE(the_issues_bad_numbers_in_yaml_are_refused_naming_the_setting) {
  const std::pair<const char*, const char*> cases[] = {
      {"failure_detector: {window: 4000000000}", "failure_detector.window"},
      {"failure_detector: {suspect_phi: .nan}", "failure_detector.suspect_phi"},
      {"failure_detector: {dead_phi: .inf}", "failure_detector.dead_phi"},
      {"failure_detector: {min_std_dev_ms: 0}", "failure_detector.min_std_dev_ms"},
      {"failure_detector: {check_interval_ms: 0}", "failure_detector.check_interval_ms"},
      {"failure_detector: {window: 5000000000}", "failure_detector.window"},
      {"failure_detector: {suspect_phi: 9, dead_phi: 8}", "failure_detector.dead_phi"},
      {"cpus: .nan", "cpus"},
      {"cpus: -1", "cpus"},
      {"register_retry_ms: 4000000000", "register_retry_ms"},
      {"heartbeat_interval_ms: 0", "heartbeat_interval_ms"},
      {"memory_mb: -5", "memory_mb"},
      {"gpus: 4000000000", "gpus"},
      {"max_frame_bytes: 4000000000", "max_frame_bytes"},
      {"artifact_cache_mb: 0", "artifact_cache_mb"},
  };
  for (const auto& [yaml, setting] : cases) {
    yaml_file f(std::string("head: true\ndata_dir: /d\n") + yaml + "\n");
    BOOST_TEST(refused({"--config", f.path}, setting), yaml);
  }
}

BOOST_AUTO_TEST_CASE(the_issues_bad_numbers_as_flags_are_refused_naming_the_setting) {
  const std::vector<std::vector<std::string>> cases = {
      {"--gpus", "4000000000"},
      {"--memory-mb", "-5"},
      {"--cpus", "nan"},
      {"--cpus", "inf"},
      {"--heartbeat-interval-ms", "-1"},
      {"--max-frame-bytes", "-4096"},
      {"--cpus", "100000"},
      {"--artifact-cache-mb", "0"},
  };
  for (auto args : cases) {
    const auto flag = args[0];
    args.insert(args.begin(), {"--head", "--data-dir", "/d"});
    const auto setting = flag.substr(2);
    auto key = setting;
    for (auto& c : key)
      if (c == '-') c = '_';
    BOOST_TEST((refused(args, setting) || refused(args, key)), flag << " " << args.back());
  }
}

BOOST_AUTO_TEST_CASE(numbers_at_the_ends_of_their_ranges_are_accepted) {
  yaml_file f(
      "head: true\ndata_dir: /d\ncpus: 65536\nmemory_mb: 1073741824\ngpus: 256\n"
      "register_retry_ms: 60000\nheartbeat_interval_ms: 10\nmax_frame_bytes: 67108864\n"
      "failure_detector: {suspect_phi: 0.1, dead_phi: 100, min_std_dev_ms: 1, window: 1000, "
      "check_interval_ms: 1000}\n");
  auto s = parse({"--config", f.path}).settings;
  BOOST_TEST(*s.gpus == 256u);
  BOOST_TEST(s.failure_detector.window == 1000u);
}

BOOST_AUTO_TEST_CASE(listen_and_join_addresses_are_parsed_and_checked) {
  for (const char* bad : {"tcp://127.0.0.1:99999", "tcp://nonsense", "tcp://:7400",
                          "tcp://127.0.0.1:", "tcp://127.0.0.1:74x0", "udp://127.0.0.1:7400",
                          "tcp://host name:7400", "tcp://127.0.0.1:-1", "tcp://[::1]:7400"})
    BOOST_TEST(refused({"--head", "--data-dir", "/d", "--listen", bad}, "`listen`"), bad);
  for (const char* bad : {"tcp://10.0.0.1:0", "tcp://*:7400", "tcp://10.0.0.1:65536",
                          "tcp://nonsense", "tcp://[::1:7400"})
    BOOST_TEST(refused({"--join", bad, "--data-dir", "/d"}, "`join`"), bad);
  for (const char* good :
       {"tcp://0.0.0.0:7400", "tcp://*:7400", "tcp://127.0.0.1:0", "tcp://head-1.example:65535"})
    BOOST_TEST(parse({"--head", "--data-dir", "/d", "--listen", good}).settings.listen == good);
  BOOST_TEST(parse({"--join", "tcp://10.0.0.1:1", "--data-dir", "/d"}).settings.join ==
             "tcp://10.0.0.1:1");
}

// As the head checks a replica's prediction socket before it connects to it.
BOOST_AUTO_TEST_CASE(an_address_to_connect_to_is_tcp_a_host_and_a_port) {
  auto accepted = [](const std::string& text) {
    try {
      parse_tcp_endpoint(text, "predictEndpoint", endpoint_use::connect);
      return true;
    } catch (const config_error&) {
      return false;
    }
  };
  for (const char* ok : {"tcp://gpu-1:40123", "tcp://127.0.0.1:1", "tcp://node_2.lan:65535"})
    BOOST_TEST(accepted(ok), ok);
  BOOST_TEST(parse_tcp_endpoint("tcp://gpu-1:40123", "x", endpoint_use::connect).host == "gpu-1");
  for (const char* bad : {"",
                          "tcp://",
                          "tcp://host",
                          "tcp://host:",
                          "tcp://:80",
                          "tcp://host:0",
                          "tcp://host:65536",
                          "tcp://host:123456",
                          "tcp://host:80x",
                          "ipc:///tmp/x",
                          "inproc://x",
                          "udp://host:80",
                          "tcp://user@host:80",
                          "tcp://host/path:80",
                          "tcp://ho st:80",
                          "tcp://[::1]:80",
                          "tcp://*:80",
                          "tcp://host\n:80",
                          "tcp://_x:80",
                          "tcp://.:80",
                          "tcp://-x:80"})
    BOOST_TEST(!accepted(bad), bad);
}

BOOST_AUTO_TEST_CASE(a_name_or_label_the_head_would_refuse_is_refused_at_start) {
  const std::string long_name(10'000, 'n');
  for (const std::string& bad :
       {std::string("evil\nname"), std::string("esc\x1b[31m"), std::string("del\x7f"),
        std::string("c1\xc2\x85"), long_name, std::string("h\xff"), std::string("\xc0\x80")}) {
    BOOST_TEST(refused({"--head", "--data-dir", "/d", "--name", bad}, "`name`"));
    BOOST_TEST(refused({"--head", "--data-dir", "/d", "--label", "zone=" + bad}, "label"));
    BOOST_TEST(refused({"--head", "--data-dir", "/d", "--label", bad + "=x"}, "label"));
  }
  BOOST_TEST(parse({"--head", "--data-dir", "/d", "--name", std::string(256, 'n')}).settings.name ==
             std::string(256, 'n'));
}

BOOST_AUTO_TEST_CASE(a_refused_name_is_shown_escaped_in_the_message) {
  try {
    parse({"--head", "--data-dir", "/d", "--name", "evil\nname"});
    BOOST_ERROR("the name was accepted");
  } catch (const config_error& e) {
    BOOST_TEST(std::string(e.what()).find("evil\\nname") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_failure_detector_key_is_named) {
  yaml_file f("head: true\ndata_dir: /d\nfailure_detector: {dead_pih: 9}\n");
  BOOST_TEST(refused({"--config", f.path}, "failure_detector.dead_pih"));
}

BOOST_AUTO_TEST_CASE(help_and_version_exit_without_running) {
  auto help = parse({"--help"});
  BOOST_TEST(help.exit_now);
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.output.find("--join") != std::string::npos);
  auto version = parse({"--version"});
  BOOST_TEST(version.exit_now);
  BOOST_TEST(version.output.find("trouped") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
