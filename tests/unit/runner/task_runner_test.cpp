// The task runner against real child processes: output, exit, environment, working dirs,
// start failures, kills, limits, the master port, and the runner's own end.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "cluster/runner/process_group.hpp"
#include "cluster/runner/task_runner.hpp"
#include "runner_fixture.hpp"

namespace troupe::runner::test {
namespace {

namespace fs = std::filesystem;

struct runner_fixture {
  temp_dir dir;
  recorder events;
  std::unique_ptr<task_runner> runner =
      std::make_unique<task_runner>(test_options(dir.path() + "/data"), events.callbacks());
};

// The first line the task wrote to stdout, once it has written one.
std::string first_line(recorder& events, const std::string& id) {
  BOOST_TEST_REQUIRE(events.wait_until(
      id, [](const attempt_report& r) { return r.out.find('\n') != std::string::npos; }));
  auto out = events.report(id).out;
  return out.substr(0, out.find('\n'));
}

bool can_bind(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(port);
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return bound;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(task_runner, runner_fixture)

BOOST_AUTO_TEST_CASE(a_task_reports_its_stdout_its_stderr_and_its_exit_code) {
  runner->start(shell_task("j1.0.1", "echo out; echo err >&2; exit 3"));
  auto exit = events.wait_finished("j1.0.1");
  BOOST_TEST(ending(exit) == exited(3));
  BOOST_TEST(exit.reason == "exit code 3: err");
  auto report = events.report("j1.0.1");
  BOOST_TEST(report.pid.has_value());
  BOOST_TEST(report.out == "out\n");
  BOOST_TEST(report.err == "err\n");
  BOOST_TEST(!report.output_after_end);
  BOOST_TEST(report.finished_count == 1);
  BOOST_TEST(eventually([&] { return runner->running().empty(); }));
}

BOOST_AUTO_TEST_CASE(a_failed_exit_is_told_by_the_last_line_its_task_wrote_to_stderr) {
  runner->start(
      shell_task("j1.0.1", "echo first >&2; echo out; printf 'why: row 5\\n\\n' >&2; exit 1"));
  BOOST_TEST(events.wait_finished("j1.0.1").reason == "exit code 1: why: row 5");
  runner->start(shell_task("j2.0.1", "printf 'no newline' >&2; exit 2"));
  BOOST_TEST(events.wait_finished("j2.0.1").reason == "exit code 2: no newline");
  runner->start(shell_task("j3.0.1", "echo out; exit 4"));
  BOOST_TEST(events.wait_finished("j3.0.1").reason == "");
  runner->start(shell_task("j4.0.1", "echo fine >&2"));
  BOOST_TEST(events.wait_finished("j4.0.1").reason == "");
  runner->start(shell_task("j5.0.1", "head -c 1000 /dev/zero | tr '\\0' x >&2; exit 1"));
  BOOST_TEST(events.wait_finished("j5.0.1").reason == "exit code 1: " + std::string(300, 'x'));
}

BOOST_AUTO_TEST_CASE(all_output_arrives_in_order_in_bounded_chunks_before_finished) {
  runner->start(shell_task("big.0.1", "yes abcdefghi | head -c 1000000; echo tail >&2"));
  events.wait_finished("big.0.1");
  auto report = events.report("big.0.1");
  BOOST_TEST(report.out.size() == 1000000u);
  BOOST_TEST(report.out.substr(0, 10) == "abcdefghi\n");
  BOOST_TEST(report.err == "tail\n");
  BOOST_TEST(report.output_in_order);
  BOOST_TEST(report.largest_chunk <= max_output_chunk);
  BOOST_TEST(!report.output_after_end);
}

BOOST_AUTO_TEST_CASE(a_task_finishes_when_its_process_ends_not_at_the_next_poll) {
  auto options = test_options(dir.path() + "/slow-polls");
  options.memory_sample = std::chrono::hours(1);
  runner::task_runner slow(options, events.callbacks());
  auto launch = shell_task("quick.0.1", "echo done");
  launch.memory_limit_mb = 100;
  slow.start(launch);
  BOOST_TEST(ending(events.wait_finished("quick.0.1")) == exited(0));
  BOOST_TEST(events.report("quick.0.1").out == "done\n");
}

BOOST_AUTO_TEST_CASE(a_task_sees_its_env_workdir_gpus_and_thread_counts) {
  auto workdir = dir.path() + "/work";
  fs::create_directories(workdir);
  auto launch = shell_task("env.0.1",
                           "echo \"$GREETING|$CUDA_VISIBLE_DEVICES|$OMP_NUM_THREADS|"
                           "$OPENBLAS_NUM_THREADS|$MKL_NUM_THREADS|$TROUPE_ATTEMPT_ID|$PATH|"
                           "$(pwd)\"");
  launch.env = {{"GREETING", "hello there"}};
  launch.gpus = {1, 3};
  launch.cpus = 2.5;
  launch.workdir = workdir;
  runner->start(launch);
  events.wait_finished("env.0.1");
  std::ostringstream expected;
  expected << "hello there|1,3|2|2|2|env.0.1|" << std::getenv("PATH") << "|" << workdir << "\n";
  BOOST_TEST(events.report("env.0.1").out == expected.str());
}

BOOST_AUTO_TEST_CASE(
    a_task_without_gpus_gets_an_empty_cuda_visible_devices_the_spec_cannot_change) {
  auto launch = shell_task("nogpu.0.1",
                           "echo \"${CUDA_VISIBLE_DEVICES+set}[$CUDA_VISIBLE_DEVICES]"
                           "$OMP_NUM_THREADS\"");
  launch.env = {{"CUDA_VISIBLE_DEVICES", "0"}};
  launch.cpus = 0.5;
  runner->start(launch);
  events.wait_finished("nogpu.0.1");
  BOOST_TEST(events.report("nogpu.0.1").out == "set[]1\n");
}

BOOST_AUTO_TEST_CASE(a_task_without_a_workdir_runs_in_a_fresh_directory_of_its_own) {
  runner->start(shell_task("fresh.0.1", "pwd; ls -A | wc -l"));
  events.wait_finished("fresh.0.1");
  auto expected = dir.path() + "/data/work/fresh.0.1";
  BOOST_TEST(events.report("fresh.0.1").out == expected + "\n0\n");
}

BOOST_AUTO_TEST_CASE(a_task_makes_no_file_and_at_most_one_directory) {
  auto workdir = dir.path() + "/work";
  fs::create_directories(workdir);
  auto given = shell_task("given.0.1", "echo out; echo err >&2");
  given.workdir = workdir;
  runner->start(given);
  runner->start(shell_task("fresh.0.1", "echo out; echo err >&2"));
  events.wait_finished("given.0.1");
  events.wait_finished("fresh.0.1");
  std::set<std::string> made;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() + "/data"))
    made.insert(fs::relative(entry.path(), dir.path() + "/data").string());
  // The runner's directory of fresh.0.1, left empty, waits for the next task as a spare.
  BOOST_TEST(
      made == (std::set<std::string>{"output.log", "running", "work", "work/.spare-0.default"}),
      boost::test_tools::per_element());
  BOOST_TEST(fs::is_empty(workdir));
}

BOOST_AUTO_TEST_CASE(an_ended_attempts_empty_directory_becomes_a_later_ones_even_after_a_restart) {
  const auto inode_of_cwd = "pwd; stat -c %i .; ls -A | wc -l";
  runner->start(shell_task("first.0.1", inode_of_cwd));
  events.wait_finished("first.0.1");
  std::istringstream first(events.report("first.0.1").out);
  std::string path, inode, entries;
  first >> path >> inode >> entries;
  BOOST_TEST(path == dir.path() + "/data/work/first.0.1");
  BOOST_TEST(!fs::exists(path), "renamed away once the attempt ended");
  runner.reset();  // as a daemon restarting
  runner = std::make_unique<troupe::runner::task_runner>(test_options(dir.path() + "/data"),
                                                         events.callbacks());
  runner->start(shell_task("second.0.1", inode_of_cwd));
  events.wait_finished("second.0.1");
  BOOST_TEST(events.report("second.0.1").out ==
             dir.path() + "/data/work/second.0.1\n" + inode + "\n0\n");
}

BOOST_AUTO_TEST_CASE(an_empty_directory_is_reused_only_by_its_own_tenants_tasks) {
  const auto inode_of_cwd = "stat -c %i .";
  runner->start(shell_task("mine.0.1", inode_of_cwd));
  events.wait_finished("mine.0.1");
  auto other = shell_task("other.0.1", inode_of_cwd);
  other.tenant = "other";
  runner->start(other);
  events.wait_finished("other.0.1");
  runner->start(shell_task("again.0.1", inode_of_cwd));
  events.wait_finished("again.0.1");
  const auto mine = events.report("mine.0.1").out;
  BOOST_TEST(events.report("other.0.1").out != mine, "another tenant gets a directory of its own");
  BOOST_TEST(events.report("again.0.1").out == mine);
}

BOOST_AUTO_TEST_CASE(a_directory_a_task_left_a_file_in_stays_and_the_next_task_gets_a_new_one) {
  runner->start(shell_task("writes.0.1", "stat -c %i .; echo result > out.txt"));
  events.wait_finished("writes.0.1");
  const auto kept = dir.path() + "/data/work/writes.0.1";
  std::string written;
  std::getline(std::ifstream(kept + "/out.txt"), written);
  BOOST_TEST(written == "result");
  runner->start(shell_task("next.0.1", "stat -c %i .; ls -A | wc -l"));
  events.wait_finished("next.0.1");
  std::istringstream writes(events.report("writes.0.1").out), next(events.report("next.0.1").out);
  std::string written_inode, next_inode, entries;
  writes >> written_inode;
  next >> next_inode >> entries;
  BOOST_TEST(next_inode != written_inode);
  BOOST_TEST(entries == "0");
}

BOOST_AUTO_TEST_CASE(the_nodes_output_log_holds_what_each_task_wrote_by_attempt_and_stream) {
  runner->start(shell_task("one.0.1", "echo first; echo oops >&2; echo second"));
  runner->start(shell_task("two.0.1", "head -c 200000 /dev/zero | tr '\\0' x; echo; echo e >&2"));
  events.wait_finished("one.0.1");
  events.wait_finished("two.0.1");
  // Each chunk: "<attempt id> <stream> <offset> <length>\n", the bytes, then "\n".
  std::map<std::string, std::string> streams;  // by "<attempt id> <stream>"
  std::ifstream log(dir.path() + "/data/output.log");
  std::string header;
  while (std::getline(log, header)) {
    std::istringstream fields(header);
    std::string attempt, stream;
    size_t offset = 0, length = 0;
    BOOST_TEST_REQUIRE(static_cast<bool>(fields >> attempt >> stream >> offset >> length));
    std::string data(length, '\0');
    log.read(data.data(), static_cast<std::streamsize>(length));
    BOOST_TEST_REQUIRE(log.get() == '\n');
    auto& text = streams[attempt + " " + stream];
    BOOST_TEST_REQUIRE(offset == text.size());
    text += data;
  }
  BOOST_TEST(streams["one.0.1 stdout"] == "first\nsecond\n");
  BOOST_TEST(streams["one.0.1 stderr"] == "oops\n");
  BOOST_TEST(streams["two.0.1 stdout"] == std::string(200000, 'x') + "\n");
  BOOST_TEST(streams["two.0.1 stderr"] == "e\n");
  BOOST_TEST(streams.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_task_starts_with_default_signals_and_no_descriptor_of_the_daemon) {
  // The daemon ignores SIGPIPE, blocks SIGUSR1 and holds a descriptor open across exec.
  auto previous_pipe = ::signal(SIGPIPE, SIG_IGN);
  sigset_t usr1, previous_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &previous_mask);
  int inheritable = ::open("/dev/null", O_RDONLY);
  runner->start(program_task("signals.0.1", {"grep", "^Sig[IB]", "/proc/self/status"}));
  runner->start(program_task("fds.0.1", {"ls", "/proc/self/fd"}));
  events.wait_finished("signals.0.1");
  events.wait_finished("fds.0.1");
  ::close(inheritable);
  ::pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  ::signal(SIGPIPE, previous_pipe);
  BOOST_TEST(events.report("signals.0.1").out ==
             "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  BOOST_TEST(events.report("fds.0.1").out == "0\n1\n2\n3\n");  // 3: the directory ls reads
}

BOOST_AUTO_TEST_CASE(a_missing_program_is_reported_as_could_not_start) {
  runner->start(program_task("missing.0.1", {"troupe-no-such-program", "x"}));
  auto exit = events.wait_finished("missing.0.1");
  BOOST_TEST(exit.reason == "could not start: no such program: troupe-no-such-program");
  BOOST_TEST(ending(exit) == "no process");
  BOOST_TEST(!events.report("missing.0.1").pid.has_value());
  BOOST_TEST(eventually([&] { return runner->running().empty(); }));
}

BOOST_AUTO_TEST_CASE(a_workdir_that_does_not_exist_is_reported_as_could_not_start) {
  auto launch = shell_task("nodir.0.1", "true");
  launch.workdir = dir.path() + "/absent";
  runner->start(launch);
  auto exit = events.wait_finished("nodir.0.1");
  BOOST_TEST(exit.reason == "could not start: cannot enter workdir " + launch.workdir +
                                ": No such file or directory");
}

BOOST_AUTO_TEST_CASE(an_attempt_id_that_is_not_a_plain_file_name_is_refused) {
  runner->start(shell_task("../escape", "true"));
  auto exit = events.wait_finished("../escape");
  BOOST_TEST(exit.reason == "could not start: invalid attempt id \"../escape\"");
  BOOST_TEST(!fs::exists(dir.path() + "/data/escape"));
}

BOOST_AUTO_TEST_CASE(kill_ends_the_whole_group_even_a_child_that_ignores_sigterm) {
  runner->start(shell_task("stubborn.0.1", "trap '' TERM; sleep 100 & echo $!; wait"));
  pid_t child = std::stoi(first_line(events, "stubborn.0.1"));
  pid_t leader = *events.report("stubborn.0.1").pid;
  BOOST_TEST(alive(child));
  runner->kill("stubborn.0.1", "cancelled");
  auto exit = events.wait_finished("stubborn.0.1");
  BOOST_TEST(ending(exit) == killed_by(SIGKILL));
  BOOST_TEST(exit.reason == "cancelled");
  BOOST_TEST(eventually([&] { return !alive(child); }));
  BOOST_TEST(live_processes_in_group(leader).empty());
}

BOOST_AUTO_TEST_CASE(kill_of_a_task_that_ends_on_sigterm_reports_sigterm) {
  runner->start(program_task("polite.0.1", {"sleep", "100"}));
  BOOST_TEST_REQUIRE(events.wait_until("polite.0.1", [](auto& r) { return r.pid.has_value(); }));
  runner->kill("polite.0.1", "cancelled");
  auto exit = events.wait_finished("polite.0.1");
  BOOST_TEST(ending(exit) == killed_by(SIGTERM));
  BOOST_TEST(exit.reason == "cancelled");
}

BOOST_AUTO_TEST_CASE(a_leader_that_exits_leaves_no_process_of_its_group_behind) {
  runner->start(shell_task("orphans.0.1", "sleep 100 & echo $!"));
  auto exit = events.wait_finished("orphans.0.1");
  BOOST_TEST(ending(exit) == exited(0));
  pid_t child = std::stoi(events.report("orphans.0.1").out);
  BOOST_TEST(eventually([&] { return !alive(child); }));
}

BOOST_AUTO_TEST_CASE(a_task_past_its_timeout_is_terminated_with_reason_timeout) {
  auto launch = program_task("slow.0.1", {"sleep", "100"});
  launch.timeout_ms = 200;
  runner->start(launch);
  auto exit = events.wait_finished("slow.0.1");
  BOOST_TEST(ending(exit) == killed_by(SIGTERM));
  BOOST_TEST(exit.reason == "timeout");
}

BOOST_AUTO_TEST_CASE(a_task_past_its_memory_limit_is_killed_with_reason_memory_limit_exceeded) {
  // The memory is held by a child of the leader: the whole group counts.
  auto launch = shell_task(
      "hungry.0.1", "python3 -c 'import time; x = b\"x\" * (300 << 20); time.sleep(60)'; exit 0");
  launch.memory_limit_mb = 100;
  runner->start(launch);
  auto exit = events.wait_finished("hungry.0.1");
  BOOST_TEST(ending(exit) == killed_by(SIGKILL));
  BOOST_TEST(exit.reason == "memory limit exceeded");
}

BOOST_AUTO_TEST_CASE(a_task_within_its_memory_limit_ends_normally) {
  auto launch = shell_task("modest.0.1", "sleep 0.2; exit 4");
  launch.memory_limit_mb = 100;
  runner->start(launch);
  auto exit = events.wait_finished("modest.0.1");
  BOOST_TEST(ending(exit) == exited(4));
  BOOST_TEST(exit.reason == "");
}

BOOST_AUTO_TEST_CASE(a_picked_master_port_is_exported_reported_and_free) {
  auto launch = shell_task("rank0.0.1", "echo $MASTER_PORT");
  launch.pick_master_port = true;
  runner->start(launch);
  events.wait_finished("rank0.0.1");
  auto report = events.report("rank0.0.1");
  BOOST_TEST(report.master_port != 0);
  BOOST_TEST(report.out == std::to_string(report.master_port) + "\n");
  BOOST_TEST(can_bind(report.master_port));
}

BOOST_AUTO_TEST_CASE(a_second_start_of_a_running_attempt_is_ignored) {
  auto launch = shell_task("twice.0.1", "echo first; sleep 100");
  runner->start(launch);
  BOOST_TEST(first_line(events, "twice.0.1") == "first");
  runner->start(shell_task("twice.0.1", "echo second"));
  BOOST_TEST(runner->running() == std::vector<std::string>{"twice.0.1"});
  runner->kill("twice.0.1", "cancelled");
  events.wait_finished("twice.0.1");
  auto report = events.report("twice.0.1");
  BOOST_TEST(report.out == "first\n");
  BOOST_TEST(report.finished_count == 1);
}

BOOST_AUTO_TEST_CASE(destroying_the_runner_kills_its_running_tasks) {
  runner->start(shell_task("left.0.1", "sleep 100 & echo $!; wait"));
  pid_t child = std::stoi(first_line(events, "left.0.1"));
  pid_t leader = *events.report("left.0.1").pid;
  runner.reset();
  auto report = events.report("left.0.1");
  BOOST_TEST_REQUIRE(report.exit.has_value());
  BOOST_TEST(ending(*report.exit) == killed_by(SIGKILL));
  BOOST_TEST(report.exit->reason == "node stopping");
  BOOST_TEST(eventually([&] { return !alive(child) && !alive(leader); }));
  std::ifstream records(dir.path() + "/data/running");
  std::string record;
  std::getline(records, record, '\n');
  BOOST_TEST(record.find_first_not_of('\0') == std::string::npos);  // its slot was emptied
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::runner::test
