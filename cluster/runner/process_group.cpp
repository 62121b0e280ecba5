#include "cluster/runner/process_group.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace troupe::runner {

namespace {

// Up to `size` bytes of a /proc file, or "" when it cannot be read (the process is gone).
std::string read_proc_file(const std::string& path, size_t size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string content(size, '\0');
  size_t used = 0;
  while (used < size) {
    ssize_t n = ::read(fd, content.data() + used, size - used);
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  content.resize(used);
  return content;
}

struct process_stat {
  char state = 0;
  pid_t pgid = 0;
  uint64_t resident_pages = 0;
};

// Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses):
// state is field 3, pgrp field 5, rss field 24 (proc(5)).
bool parse_stat(const std::string& stat, process_stat& out) {
  auto name_end = stat.rfind(')');
  if (name_end == std::string::npos || name_end + 2 >= stat.size()) return false;
  const char* p = stat.c_str() + name_end + 2;
  out.state = *p;
  for (int field = 3; field < 24; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return false;
    ++p;
    if (field + 1 == 5) out.pgid = static_cast<pid_t>(std::strtol(p, nullptr, 10));
  }
  out.resident_pages = std::strtoull(p, nullptr, 10);
  return true;
}

}  // namespace

std::vector<group_process> live_processes_in_group(pid_t pgid) {
  std::vector<group_process> found;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return found;
  static const uint64_t page_size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  while (dirent* entry = ::readdir(proc.get())) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    process_stat stat;
    if (!parse_stat(read_proc_file(std::string("/proc/") + entry->d_name + "/stat", 1024), stat))
      continue;
    if (stat.pgid != pgid || stat.state == 'Z' || stat.state == 'X') continue;
    found.push_back({static_cast<pid_t>(pid), stat.resident_pages * page_size});
  }
  return found;
}

bool environment_contains(pid_t pid, const std::string& entry) {
  auto environ = read_proc_file("/proc/" + std::to_string(pid) + "/environ", 1 << 20);
  size_t start = 0;
  while (start < environ.size()) {
    size_t end = environ.find('\0', start);
    if (end == std::string::npos) end = environ.size();
    if (environ.compare(start, end - start, entry) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace troupe::runner
