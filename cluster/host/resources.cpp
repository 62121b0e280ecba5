#include "cluster/host/resources.hpp"

#include <sched.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace troupe::host {
namespace {

// Reads "Key:   123 kB" from /proc/meminfo; 0 when absent.
uint64_t meminfo_kb(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream fields(line.substr(key.size() + 1));
      uint64_t kb = 0;
      fields >> kb;
      return kb;
    }
  }
  return 0;
}

double usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
  return std::thread::hardware_concurrency();
}

}  // namespace

msg::resources detect_resources() {
  msg::resources r;
  r.cpus = usable_cpus();
  r.memory_mb = meminfo_kb("MemTotal") / 1024;
  r.gpus = detect_gpus();
  return r;
}

msg::node_load read_load() {
  msg::node_load load;
  std::ifstream in("/proc/loadavg");
  in >> load.load_average_1m;
  uint64_t total = meminfo_kb("MemTotal"), available = meminfo_kb("MemAvailable");
  load.memory_used_mb = total > available ? (total - available) / 1024 : 0;
  return load;
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "localhost";
  return buffer;
}

}  // namespace troupe::host
