// No false alarms: a healthy cluster on a machine whose cores are all kept busy by other
// processes never marks a node suspect or dead. The head logs every state change.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <sstream>
#include <thread>

#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe::local;

namespace {

// A process that spins until killed.
pid_t start_cpu_hog() {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    volatile uint64_t x = 0;
    while (true) x = x + 1;
  }
  return pid;
}

std::vector<std::string> state_changes_to(const std::string& log, const std::string& state) {
  std::vector<std::string> found;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);)
    if (line.find("-> " + state) != std::string::npos) found.push_back(line);
  return found;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(no_false_alarms)

BOOST_AUTO_TEST_CASE(busy_cores_for_twenty_seconds_raise_no_suspicion) {
  cluster c;
  c.start_head();
  c.start_node("node-1");
  c.start_node("node-2");
  BOOST_TEST_REQUIRE(c.wait_for_alive_count(3), c.dump_logs());

  const unsigned hogs = 2 * std::max(1u, std::thread::hardware_concurrency());
  std::vector<pid_t> pids;
  for (unsigned i = 0; i < hogs; ++i) pids.push_back(start_cpu_hog());
  BOOST_TEST_MESSAGE("keeping " << hogs << " busy processes running for 20 s");
  std::this_thread::sleep_for(std::chrono::seconds(20));
  for (auto pid : pids) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }

  auto log = c.head().log();
  auto suspects = state_changes_to(log, "suspect");
  auto deaths = state_changes_to(log, "dead");
  BOOST_TEST(suspects.empty(), (suspects.empty() ? "" : suspects.front()));
  BOOST_TEST(deaths.empty(), (deaths.empty() ? "" : deaths.front()));
  // The log does record state changes: the three registrations are there.
  BOOST_TEST(state_changes_to(log, "alive").size() == 3u);
  BOOST_TEST(c.wait_for_alive_count(3, std::chrono::seconds(5)));
}

BOOST_AUTO_TEST_SUITE_END()
