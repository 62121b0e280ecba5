// Every daemon's HTTP server (docs/http.md) on real daemons: health, /metrics accepted by
// promtool with the cluster's and the node's gauges, and a taken port that stops the daemon.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "tests/integration/http_calls.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;
using troupe::test::http_get;

namespace {

// promtool's verdict on a /metrics text: "" when it accepts it, else what it says.
std::string promtool_problems(const cluster& c, const std::string& text) {
  const auto file = c.root() + "/metrics.txt";
  std::ofstream(file) << text;
  auto r = run_command({"/bin/sh", "-c", "promtool check metrics < " + file});
  return r.exit_code == 0 ? "" : "exit " + std::to_string(r.exit_code) + ": " + r.out + r.err;
}

// The value of one series ("name{labels}") in a /metrics text; -1 when absent.
double series(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

bool wait_for_series(const cluster& c, const std::string& address, const std::string& name,
                     double value) {
  return wait_until([&] { return series(http_get(c, address, "/metrics").body, name) == value; },
                    15s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_http)

BOOST_AUTO_TEST_CASE(every_daemon_answers_health_and_metrics_that_promtool_accepts) {
  cluster c;
  c.start_head();
  c.start_node("node-1");
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(2), c.dump_logs());
  for (auto* d : {&c.head(), &c.node("node-1")}) {
    const auto address = d->http_address();
    BOOST_TEST_CONTEXT(d->name()) {
      BOOST_TEST(http_get(c, address, "/healthz").status == 200);
      auto live = http_get(c, address, "/v2/health/live");
      BOOST_TEST(live.status == 200);
      BOOST_TEST(live.body == R"({"live":true})");
      BOOST_TEST(http_get(c, address, "/v2/health/ready").status == 200);
      auto metrics = http_get(c, address, "/metrics");
      BOOST_TEST(metrics.status == 200);
      BOOST_TEST(promtool_problems(c, metrics.body) == "");
      BOOST_TEST(series(metrics.body, "troupe_node_cpus") > 0);
      BOOST_TEST(series(metrics.body, "troupe_node_tasks_running") == 0);
    }
  }
  BOOST_TEST(
      wait_for_series(c, c.head().http_address(), R"(troupe_cluster_nodes{state="alive"})", 2),
      http_get(c, c.head().http_address(), "/metrics").body);
  auto node_metrics = http_get(c, c.node("node-1").http_address(), "/metrics").body;
  BOOST_TEST(series(node_metrics, R"(troupe_cluster_nodes{state="alive"})") == -1);
}

BOOST_AUTO_TEST_CASE(a_running_job_shows_in_the_heads_job_gauge_and_its_nodes_task_gauge) {
  cluster c;
  c.start_head({"--no-worker"});
  c.start_node("node-1");
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(1), c.dump_logs());
  const auto spec = c.root() + "/sleep.yaml";
  std::ofstream(spec) << "name: sleeper\nkind: command\nargv: [sleep, '60']\n";
  auto submitted = c.troupe({"submit", spec});
  BOOST_TEST_REQUIRE(submitted.exit_code == 0, submitted.err + c.dump_logs());
  BOOST_TEST(
      wait_for_series(c, c.head().http_address(), R"(troupe_cluster_jobs{state="RUNNING"})", 1),
      http_get(c, c.head().http_address(), "/metrics").body);
  BOOST_TEST(wait_for_series(c, c.node("node-1").http_address(), "troupe_node_tasks_running", 1),
             http_get(c, c.node("node-1").http_address(), "/metrics").body);
}

BOOST_AUTO_TEST_CASE(a_taken_http_port_stops_the_daemon_naming_the_address) {
  cluster first;
  first.start_head();
  const auto taken = first.head().http_address();
  cluster second;
  const auto dir = second.root() + "/head";
  local::daemon head("head", {"--head", "--listen", "tcp://127.0.0.1:0", "--http-listen", taken},
                     dir, second.root() + "/head.log");
  head.start();
  BOOST_TEST(head.wait_exit(15s) != 0);
  BOOST_TEST(head.log().find("cannot listen for HTTP on " + taken) != std::string::npos,
             head.log());
}

BOOST_AUTO_TEST_SUITE_END()
