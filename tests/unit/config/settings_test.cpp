#define BOOST_TEST_MODULE config
#include <unistd.h>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>

#include "config/daemon_args.hpp"

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
