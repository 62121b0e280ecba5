// Floods cannot hide deaths or starve others: while one client floods the head with status
// requests from several sockets, a killed node is still declared dead in time and another
// client still gets answers.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"
#include "tools/local_cluster/request_flood.hpp"

using namespace troupe;
using namespace troupe::local;
using steady = std::chrono::steady_clock;

namespace {

// Asks the head for `name`'s state until it is `state` or `limit` has passed since `from`.
bool reaches_state(const cluster& c, const std::string& name, msg::node_state state,
                   steady::time_point from, std::chrono::milliseconds limit) {
  transport::request_client observer(c.endpoint(), "observer", c.admin_keys());
  for (auto left = limit; left.count() > 0;
       left = std::chrono::duration_cast<std::chrono::milliseconds>(from + limit - steady::now())) {
    auto reply = observer.call(msg::node_list_request{}, left);
    if (!reply) return false;
    if (auto* list = std::get_if<msg::node_list_reply>(&reply->body))
      for (const auto& n : list->nodes)
        if (n.name == name && n.state == state) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(floods)

BOOST_AUTO_TEST_CASE(during_a_request_flood_a_killed_node_is_declared_dead_and_others_get_answers) {
  cluster c;
  c.start_head();
  c.start_node("node-1");
  c.start_node("victim");
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(3), c.dump_logs());

  request_flood flood(c.endpoint(), msg::cluster_status_request{}, 4, c.admin_keys());
  std::this_thread::sleep_for(1s);  // let the flood fill every queue it can
  for (int i = 0; i < 3; ++i) {
    auto status = c.troupe({"status"});
    BOOST_TEST(status.exit_code == 0, "troupe status during the flood: " << status.err);
  }

  auto killed = steady::now();
  c.node("victim").signal(SIGKILL);
  // The acceptance: dead within 1.5 s (about 0.8 s without a flood).
  BOOST_TEST(reaches_state(c, "victim", msg::node_state::dead, killed, 1500ms), c.head().log());
  auto counts = flood.so_far();
  auto seconds = std::chrono::duration<double>(steady::now() - killed).count() + 1.0;
  BOOST_TEST_MESSAGE("flood: " << counts.sent / seconds << " requests/s sent, "
                               << counts.answered / seconds << " answers/s (" << counts.overloaded
                               << " overloaded)");
  BOOST_TEST(counts.answered > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
