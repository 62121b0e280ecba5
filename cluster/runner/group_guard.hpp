// Kills the running tasks' process groups when the node daemon dies, however it dies.
//
// The parent-death signal kills a task's own process, not what it started (a shell's
// children). So a small process forked from the daemon keeps the ids of the running groups,
// told over a socket; when the socket reaches its end (the daemon is gone: the kernel closes
// its end) it SIGKILLs every group it holds and exits.
//
// A group must be removed while its leader is not yet reaped (its zombie keeps the id from
// being reused), so the guard never holds the id of an unrelated group. What is sent before
// the daemon dies reaches the guard before the end of the socket does.
#pragma once

#include <sys/types.h>

namespace troupe::runner {

class group_guard {
 public:
  // Forks the guard; throws std::runtime_error when it cannot.
  group_guard();
  // Ends the guard (without killing anything) and reaps it.
  ~group_guard();
  group_guard(const group_guard&) = delete;
  group_guard& operator=(const group_guard&) = delete;

  // Safe from several threads at once.
  void add(pid_t pgid) const;
  void remove(pid_t pgid) const;

 private:
  int socket_ = -1;
  pid_t pid_ = -1;
};

}  // namespace troupe::runner
