// Process groups seen through /proc: which live processes a group holds and how much resident
// memory they use. Zombies count as gone: they hold no memory and only wait to be reaped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::runner {

struct group_process {
  pid_t pid = 0;
  uint64_t resident_bytes = 0;
};

// The live processes whose process group is `pgid`.
std::vector<group_process> live_processes_in_group(pid_t pgid);

// Whether /proc/<pid>/environ holds exactly this "NAME=value" entry.
bool environment_contains(pid_t pid, const std::string& entry);

}  // namespace troupe::runner
