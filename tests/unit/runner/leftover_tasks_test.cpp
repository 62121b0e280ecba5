// A daemon killed with SIGKILL: its tasks' own processes die with it (parent-death signal),
// and so does what they started (the group guard). Should the guard be gone too, what they
// started survives in their groups, and kill_leftover_tasks() at the next start (the next
// runner's constructor) kills it, and nothing else.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "cluster/runner/group_records.hpp"
#include "cluster/runner/task_runner.hpp"
#include "runner_fixture.hpp"

namespace troupe::runner::test {
namespace {

namespace fs = std::filesystem;

// A forked child of the test standing in for a daemon: it runs one task and waits to be
// killed (or gives up after a minute).
pid_t start_daemon(const std::string& dir, const jobs::task_launch& launch) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::signal(SIGALRM, SIG_DFL);
  ::alarm(60);
  {
    task_runner runner(test_options(dir), runner_callbacks{});
    runner.start(launch);
    while (true) ::pause();
  }
}

void kill_and_reap(pid_t& daemon) {
  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, nullptr, 0);
  daemon = -1;
}

// Reads "<leader pid> <child pid>" once the task has written it.
std::pair<pid_t, pid_t> read_pids(const std::string& file) {
  std::pair<pid_t, pid_t> pids{0, 0};
  BOOST_TEST_REQUIRE(eventually([&] {
    std::ifstream in(file);
    return static_cast<bool>(in >> pids.first >> pids.second);
  }));
  return pids;
}

struct leftover_fixture {
  temp_dir dir;
  std::string data = dir.path() + "/data";
  pid_t daemon = -1;
  ~leftover_fixture() {
    if (daemon > 0) kill_and_reap(daemon);
  }

  // Starts the daemon with a task that starts a child; returns the task's and the child's pid.
  std::pair<pid_t, pid_t> start_task_with_a_child() {
    auto workdir = dir.path() + "/work";
    fs::create_directories(workdir);
    auto launch =
        shell_task("left.0.1", "sleep 100 & echo $$ $! > pids.tmp; mv pids.tmp pids; wait");
    launch.workdir = workdir;
    daemon = start_daemon(data, launch);
    return read_pids(workdir + "/pids");
  }
};

// The children of a process, of all its threads.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> children;
  for (const auto& thread : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream in(thread.path() / "children");
    for (pid_t child; in >> child;) children.push_back(child);
  }
  return children;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(leftover_tasks, leftover_fixture)

BOOST_AUTO_TEST_CASE(what_a_task_started_dies_with_its_killed_daemon) {
  auto [leader, child] = start_task_with_a_child();

  kill_and_reap(daemon);
  BOOST_TEST(eventually([&] { return !alive(leader); }));  // the parent-death signal
  BOOST_TEST(eventually([&] { return !alive(child); }));   // the group guard
}

BOOST_AUTO_TEST_CASE(the_next_runner_kills_what_a_daemon_killed_with_its_guard_left_running) {
  auto [leader, child] = start_task_with_a_child();

  auto children = children_of(daemon);
  children.erase(std::remove(children.begin(), children.end(), leader), children.end());
  BOOST_TEST_REQUIRE(children.size() == 1u, "the daemon's children: its guard and the task");
  ::kill(children[0], SIGKILL);
  kill_and_reap(daemon);
  BOOST_TEST(eventually([&] { return !alive(leader); }));  // the parent-death signal
  BOOST_TEST(alive(child));

  task_runner next(test_options(data), runner_callbacks{});
  BOOST_TEST(next.leftovers_killed() == std::vector<std::string>{"left.0.1"});
  BOOST_TEST(!alive(child));
  BOOST_TEST(fs::file_size(data + "/running") == 0u);
}

BOOST_AUTO_TEST_CASE(kill_leftover_tasks_spares_a_group_that_is_not_the_recorded_task) {
  // Stands in for an unrelated process group that got a recorded task's group id.
  pid_t stranger = ::fork();
  if (stranger == 0) {
    ::setpgid(0, 0);
    ::execlp("sleep", "sleep", "100", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  BOOST_TEST_REQUIRE(eventually([&] { return ::getpgid(stranger) == stranger; }));
  fs::create_directories(data);
  BOOST_TEST(std::holds_alternative<size_t>(group_records(data).add("gone.0.1", stranger)));

  BOOST_TEST(kill_leftover_tasks(data).empty());
  BOOST_TEST(alive(stranger));
  BOOST_TEST(fs::file_size(data + "/running") == 0u);
  ::kill(stranger, SIGKILL);
  ::waitpid(stranger, nullptr, 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::runner::test
