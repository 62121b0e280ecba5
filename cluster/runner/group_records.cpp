#include "cluster/runner/group_records.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "cluster/runner/process_group.hpp"
#include "cluster/runner/task_environment.hpp"

namespace troupe::runner {

namespace {

constexpr size_t slot_size = 256;  // "<pgid> <attempt id>\n", zero-padded

std::string records_path(const std::string& dir) { return dir + "/running"; }

bool carries_attempt(pid_t pgid, const std::string& attempt_id) {
  auto marker = std::string(attempt_id_variable) + "=" + attempt_id;
  for (const auto& process : live_processes_in_group(pgid))
    if (environment_contains(process.pid, marker)) return true;
  return false;
}

std::string errno_text() { return std::generic_category().message(errno); }

}  // namespace

group_records::group_records(const std::string& dir) {
  auto path = records_path(dir);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + errno_text());
}

group_records::~group_records() { ::close(fd_); }

std::variant<size_t, std::string> group_records::add(const std::string& attempt_id, pid_t pgid) {
  char record[slot_size] = {};
  std::snprintf(record, sizeof record, "%d %.*s\n", static_cast<int>(pgid),
                static_cast<int>(max_attempt_id_size), attempt_id.c_str());
  std::lock_guard<std::mutex> lock(mutex_);
  size_t slot = slot_count_;
  if (!free_slots_.empty()) slot = free_slots_.back();
  if (::pwrite(fd_, record, slot_size, static_cast<off_t>(slot * slot_size)) !=
      static_cast<ssize_t>(slot_size))
    return "cannot record the process group: " + errno_text();
  if (slot == slot_count_) {
    ++slot_count_;
  } else {
    free_slots_.pop_back();
  }
  return slot;
}

void group_records::remove(size_t slot) {
  const char empty[slot_size] = {};
  std::lock_guard<std::mutex> lock(mutex_);
  ssize_t ignored = ::pwrite(fd_, empty, slot_size, static_cast<off_t>(slot * slot_size));
  (void)ignored;  // a record left behind only makes kill_leftover_tasks look for its group
  free_slots_.push_back(slot);
}

std::vector<std::string> kill_leftover_tasks(const std::string& dir) {
  std::vector<std::string> killed;
  std::vector<pid_t> killed_groups;
  std::ifstream records(records_path(dir));
  std::string slot(slot_size, '\0');
  while (records.read(slot.data(), slot_size)) {
    std::istringstream record(slot.substr(0, slot.find('\0')));
    pid_t pgid = 0;
    std::string attempt_id;
    if (!(record >> pgid >> attempt_id) || pgid <= 1) continue;
    if (carries_attempt(pgid, attempt_id) && ::kill(-pgid, SIGKILL) == 0) {
      killed.push_back(attempt_id);
      killed_groups.push_back(pgid);
    }
  }
  std::ofstream(records_path(dir), std::ios::trunc);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto pgid : killed_groups)
    while (!live_processes_in_group(pgid).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return killed;
}

}  // namespace troupe::runner
