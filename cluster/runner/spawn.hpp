// Starts one task's process, the way posix_spawn does (clone with CLONE_VM | CLONE_VFORK: no
// copy of the daemon's memory, and the caller resumes once the child has exec'd). The child
// runs in its own process group, dies with the thread that started it (PR_SET_PDEATHSIG follows
// that thread, not the process: call this from a thread that lives until the child has been
// reaped), reads /dev/null, writes stdout and stderr into the descriptors given, starts with
// default signal dispositions and an empty signal mask, and inherits no descriptor of the
// daemon.
#pragma once

#include <sys/types.h>

#include <string>
#include <variant>
#include <vector>

namespace troupe::runner {

struct spawn_request {
  std::vector<std::string> argv;
  std::vector<std::string> program_candidates;  // paths to exec, in order (task_environment.hpp)
  std::vector<std::string> environment;         // "NAME=value"
  std::string workdir;
  int stdout_fd = -1, stderr_fd = -1;  // the child's 1 and 2 (the caller keeps and closes them)
};

// A started child: `pidfd` becomes readable when it ends; the caller reaps it and closes pidfd.
struct spawned_process {
  pid_t pid = 0;
  int pidfd = -1;
};

// The started child, or why it could not start (no such program, bad workdir, ...). Returns
// once the child has exec'd its program or failed to.
std::variant<spawned_process, std::string> spawn_process(const spawn_request& request);

}  // namespace troupe::runner
