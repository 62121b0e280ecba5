#include "runner_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <thread>

namespace troupe::runner::test {

runner_callbacks recorder::callbacks() {
  runner_callbacks callbacks;
  callbacks.started = [this](const std::string& id, pid_t pid, uint16_t port) {
    std::lock_guard<std::mutex> lock(mutex_);
    reports_[id].pid = pid;
    reports_[id].master_port = port;
    changed_.notify_all();
  };
  callbacks.output = [this](const std::string& id, log_stream stream, uint64_t offset,
                            std::string data) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& report = reports_[id];
    auto& text = stream == log_stream::out ? report.out : report.err;
    if (offset != text.size()) report.output_in_order = false;
    if (report.exit) report.output_after_end = true;
    report.largest_chunk = std::max(report.largest_chunk, data.size());
    text += data;
    changed_.notify_all();
  };
  callbacks.finished = [this](const std::string& id, const jobs::task_exit& exit) {
    std::lock_guard<std::mutex> lock(mutex_);
    reports_[id].exit = exit;
    ++reports_[id].finished_count;
    changed_.notify_all();
  };
  return callbacks;
}

jobs::task_exit recorder::wait_finished(const std::string& attempt_id, std::chrono::seconds limit) {
  BOOST_TEST_REQUIRE(
      wait_until(
          attempt_id, [](const attempt_report& r) { return r.exit.has_value(); }, limit),
      attempt_id << " did not finish within " << limit.count() << " s");
  return *report(attempt_id).exit;
}

bool recorder::wait_until(const std::string& attempt_id,
                          const std::function<bool(const attempt_report&)>& ready,
                          std::chrono::seconds limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, limit, [&] { return ready(reports_[attempt_id]); });
}

attempt_report recorder::report(const std::string& attempt_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return reports_[attempt_id];
}

runner_options test_options(const std::string& dir) {
  runner_options options;
  options.dir = dir;
  options.kill_grace = std::chrono::milliseconds(300);
  options.memory_sample = std::chrono::milliseconds(20);
  return options;
}

jobs::task_launch program_task(const std::string& attempt_id, std::vector<std::string> argv) {
  jobs::task_launch launch;
  launch.attempt_id = attempt_id;
  launch.tenant = "default";  // as a job's launch has it
  launch.argv = std::move(argv);
  return launch;
}

jobs::task_launch shell_task(const std::string& attempt_id, const std::string& script) {
  return program_task(attempt_id, {"sh", "-c", script});
}

std::string ending(const jobs::task_exit& exit) {
  if (exit.exit_code) return exited(*exit.exit_code);
  if (exit.signal) return killed_by(*exit.signal);
  return "no process";
}

std::string exited(int code) { return "exit " + std::to_string(code); }

std::string killed_by(int signal) { return "signal " + std::to_string(signal); }

bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto name_end = line.rfind(')');
  return name_end != std::string::npos && name_end + 2 < line.size() && line[name_end + 2] != 'Z' &&
         line[name_end + 2] != 'X';
}

bool eventually(const std::function<bool()>& condition, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace troupe::runner::test
