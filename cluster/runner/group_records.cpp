#include "cluster/runner/group_records.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include "cluster/runner/process_group.hpp"
#include "cluster/runner/task_environment.hpp"

namespace troupe::runner {

namespace fs = std::filesystem;

namespace {

std::string record_path(const std::string& dir, const std::string& attempt_id) {
  return dir + "/running/" + attempt_id;
}

bool carries_attempt(pid_t pgid, const std::string& attempt_id) {
  auto marker = std::string(attempt_id_variable) + "=" + attempt_id;
  for (const auto& process : live_processes_in_group(pgid))
    if (environment_contains(process.pid, marker)) return true;
  return false;
}

}  // namespace

// Not fsynced: the records must survive the daemon's crash, not the machine's, which ends the
// tasks too.
std::string record_group(const std::string& dir, const std::string& attempt_id, pid_t pgid) {
  auto path = record_path(dir, attempt_id);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return "cannot record the process group in " + path + ": " +
           std::generic_category().message(errno);
  auto text = std::to_string(pgid) + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  ::close(fd);
  if (written) return {};
  ::unlink(path.c_str());
  return "cannot record the process group in " + path + ": " + std::generic_category().message(err);
}

void forget_group(const std::string& dir, const std::string& attempt_id) {
  ::unlink(record_path(dir, attempt_id).c_str());
}

std::vector<std::string> kill_leftover_tasks(const std::string& dir) {
  std::vector<std::string> killed;
  std::vector<pid_t> killed_groups;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir + "/running", ec)) {
    auto attempt_id = entry.path().filename().string();
    pid_t pgid = 0;
    std::ifstream(entry.path()) >> pgid;
    if (pgid > 1 && carries_attempt(pgid, attempt_id) && ::kill(-pgid, SIGKILL) == 0) {
      killed.push_back(attempt_id);
      killed_groups.push_back(pgid);
    }
    fs::remove(entry.path(), ec);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto pgid : killed_groups)
    while (!live_processes_in_group(pgid).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return killed;
}

}  // namespace troupe::runner
