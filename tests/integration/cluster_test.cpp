// Whole-cluster behaviour with real daemons on loopback.
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe::local;

namespace {

// Head (with its own node agent) plus node-1 and node-2, all alive.
struct three_nodes {
  cluster c;
  three_nodes() {
    c.start_head();
    c.start_node("node-1", {"--label", "zone=a", "--cpus", "2"});
    c.start_node("node-2", {"--memory-mb", "1024"});
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(3), c.dump_logs());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(formation)

BOOST_FIXTURE_TEST_CASE(a_head_and_two_nodes_show_three_alive_nodes, three_nodes) {
  auto nodes = c.nodes();
  BOOST_TEST_REQUIRE(nodes.size() == 3u);
  for (auto& [name, n] : nodes) {
    BOOST_TEST(n["state"] == "alive");
    BOOST_TEST(n["id"].get<std::string>().size() == 32u);
    BOOST_TEST(n["incarnation"].get<uint64_t>() >= 1u);
    BOOST_TEST(n["last_heartbeat_ms_ago"].get<uint64_t>() < 5000u);
    BOOST_TEST(n.contains("gpus"));
  }
  BOOST_TEST(nodes["head"]["is_head"] == true);
  BOOST_TEST(nodes["node-1"]["cpus"] == 2.0);
  BOOST_TEST(nodes["node-1"]["labels"]["zone"] == "a");
  BOOST_TEST(nodes["node-2"]["memory_mb"] == 1024);
}

BOOST_FIXTURE_TEST_CASE(status_counts_the_nodes_and_their_resources, three_nodes) {
  auto result = c.troupe({"status", "--json"});
  BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
  auto status = nlohmann::json::parse(result.out);
  BOOST_TEST(status["nodes"]["alive"] == 3);
  BOOST_TEST(status["total"]["cpus"].get<double>() >= 2.0);
  auto table = c.troupe({"nodes"});
  BOOST_TEST(table.exit_code == 0);
  BOOST_TEST(table.out.find("node-1") != std::string::npos);
  BOOST_TEST(table.out.find("STATE") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(failures)

BOOST_FIXTURE_TEST_CASE(a_frozen_node_is_declared_dead_and_comes_back_with_the_same_id,
                        three_nodes) {
  auto before = c.nodes()["node-1"];
  c.node("node-1").signal(SIGSTOP);
  BOOST_TEST_REQUIRE(c.wait_for_state("node-1", "dead", 10s), c.dump_logs());
  BOOST_TEST(c.nodes()["node-2"]["state"] == "alive");
  c.node("node-1").signal(SIGCONT);
  BOOST_TEST_REQUIRE(c.wait_for_state("node-1", "alive", 10s), c.dump_logs());
  auto after = c.nodes()["node-1"];
  BOOST_TEST(after["id"] == before["id"]);
  BOOST_TEST(after["incarnation"].get<uint64_t>() > before["incarnation"].get<uint64_t>());
}

BOOST_FIXTURE_TEST_CASE(a_killed_node_is_declared_dead, three_nodes) {
  c.node("node-2").signal(SIGKILL);
  BOOST_TEST(c.wait_for_state("node-2", "dead", 10s), c.dump_logs());
  auto id = c.nodes()["node-2"]["id"].get<std::string>();
  BOOST_TEST(c.head().log().find("node node-2 (" + id + ") incarnation 1: suspect -> dead") !=
                 std::string::npos,
             c.head().log());
}

BOOST_FIXTURE_TEST_CASE(a_terminated_node_has_left_and_is_not_dead, three_nodes) {
  c.node("node-2").signal(SIGTERM);
  BOOST_TEST(c.node("node-2").wait_exit(10s) == 0);
  BOOST_TEST_REQUIRE(c.wait_for_state("node-2", "left", 5s), c.dump_logs());
  BOOST_TEST(c.head().log().find("node-2 (") != std::string::npos);
  BOOST_TEST(c.head().log().find("-> dead") == std::string::npos, c.head().log());
}

BOOST_FIXTURE_TEST_CASE(nodes_rejoin_a_restarted_head_by_themselves, three_nodes) {
  auto before = c.nodes();
  c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) >= 0);
  BOOST_TEST(c.troupe({"nodes"}).exit_code == 3);
  c.restart_head();
  // The restarted head knows the nodes from its store; only a heartbeat reports a load.
  auto heard_from_both = [&] {
    auto n = c.nodes();
    return n.size() == 3 && n["node-1"]["load"]["memory_used_mb"].get<uint64_t>() > 0 &&
           n["node-2"]["load"]["memory_used_mb"].get<uint64_t>() > 0;
  };
  BOOST_TEST_REQUIRE(wait_until(heard_from_both, 15s), c.dump_logs());
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(3), c.dump_logs());
  auto after = c.nodes();
  for (const char* name : {"node-1", "node-2"}) {
    BOOST_TEST(after[name]["id"] == before[name]["id"]);
    // The same processes: their incarnations did not change.
    BOOST_TEST(after[name]["incarnation"] == before[name]["incarnation"]);
  }
}

BOOST_AUTO_TEST_CASE(a_terminated_head_stores_its_own_node_as_left) {
  cluster c;
  c.start_head();
  BOOST_TEST_REQUIRE(c.wait_for_state("head", "alive"), c.dump_logs());
  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) == 0);
  c.restart_head({"--no-worker"});
  BOOST_TEST(c.nodes()["head"]["state"] == "left", c.dump_logs());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(drain)

BOOST_FIXTURE_TEST_CASE(drain_and_undrain_a_node_by_name, three_nodes) {
  auto drained = c.troupe({"drain", "node-1"});
  BOOST_TEST_REQUIRE(drained.exit_code == 0, drained.err);
  BOOST_TEST(c.nodes()["node-1"]["state"] == "draining");
  auto status = nlohmann::json::parse(c.troupe({"status", "--json"}).out);
  BOOST_TEST(status["nodes"]["draining"] == 1);
  BOOST_TEST(c.troupe({"undrain", "node-1"}).exit_code == 0);
  BOOST_TEST(c.nodes()["node-1"]["state"] == "alive");
}

BOOST_FIXTURE_TEST_CASE(draining_survives_a_head_restart, three_nodes) {
  BOOST_TEST_REQUIRE(c.troupe({"drain", "node-2"}).exit_code == 0);
  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) == 0);
  c.restart_head();
  BOOST_TEST(c.wait_for_state("node-2", "draining", 10s), c.dump_logs());
}

BOOST_FIXTURE_TEST_CASE(draining_an_unknown_node_fails_clearly, three_nodes) {
  auto result = c.troupe({"drain", "no-such-node"});
  BOOST_TEST(result.exit_code == 1);
  BOOST_TEST(result.err.find("no node named `no-such-node`") != std::string::npos, result.err);
}

BOOST_FIXTURE_TEST_CASE(a_dead_node_can_be_removed_and_stays_removed, three_nodes) {
  auto live = c.troupe({"remove", "node-2"});
  BOOST_TEST(live.exit_code == 1);
  BOOST_TEST(live.err.find("before removing it") != std::string::npos, live.err);
  c.node("node-2").signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.wait_for_state("node-2", "dead", 10s), c.dump_logs());
  auto removed = c.troupe({"remove", "node-2"});
  BOOST_TEST_REQUIRE(removed.exit_code == 0, removed.err);
  BOOST_TEST(c.nodes().count("node-2") == 0u);
  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) == 0);
  c.restart_head();
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(2), c.dump_logs());
  BOOST_TEST(c.nodes().count("node-2") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli)

// A head that ran once and stopped: its admin credential is valid, nothing answers on port 9.
std::string credential_of_a_stopped_head(cluster& c) {
  c.start_head();
  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(10s) == 0);
  return c.admin_credentials();
}

BOOST_AUTO_TEST_CASE(an_unreachable_head_gives_a_one_line_error_and_exit_code_3) {
  cluster c;
  auto result =
      run_command({binary("troupe"), "--head", "tcp://127.0.0.1:9", "--credentials",
                   credential_of_a_stopped_head(c), "--timeout-ms", "300", "nodes", "--json"});
  BOOST_TEST(result.exit_code == 3);
  BOOST_TEST(result.out.empty());
  BOOST_TEST(result.err.find("no reply from the head at tcp://127.0.0.1:9") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_head_address_comes_from_the_environment) {
  cluster c;
  setenv("TROUPE_HEAD", "tcp://127.0.0.1:9", 1);
  setenv("TROUPE_CREDENTIALS", credential_of_a_stopped_head(c).c_str(), 1);
  auto result = run_command({binary("troupe"), "--timeout-ms", "200", "status"});
  unsetenv("TROUPE_HEAD");
  unsetenv("TROUPE_CREDENTIALS");
  BOOST_TEST(result.exit_code == 3);
  BOOST_TEST(result.err.find("tcp://127.0.0.1:9") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_daemon_flags_are_refused_with_a_message) {
  auto result =
      run_command({binary("trouped"), "--join", "not-an-address", "--data-dir", "/tmp/x"});
  BOOST_TEST(result.exit_code == 2);
  BOOST_TEST(result.err.find("join") != std::string::npos, result.err);
}

BOOST_AUTO_TEST_SUITE_END()
