#include "cluster/runner/group_guard.hpp"

#include <linux/close_range.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace troupe::runner {

namespace {

struct guard_message {
  int32_t add = 0;  // 1: add the group, 0: remove it
  int32_t pgid = 0;
};

// The guard's groups. A fixed table: the child of a multithreaded fork may only make
// async-signal-safe calls, so it cannot allocate. Written only in the guard's own copy.
constexpr size_t most_groups = 1 << 16;
pid_t guarded[most_groups];

[[noreturn]] void run_guard(int socket) {
  // Every signal stays blocked (as the parent set it around the fork): no handler of the
  // daemon runs here, and Ctrl-C or a SIGTERM to the daemon's group leaves the guard to end
  // with the daemon. Nothing of the daemon's stays open here but the socket.
  if (socket > 0) ::close_range(0, static_cast<unsigned>(socket) - 1, 0);
  ::close_range(static_cast<unsigned>(socket) + 1, ~0U, 0);
  size_t count = 0;
  guard_message m;
  while (true) {
    const ssize_t n = ::recv(socket, &m, sizeof m, 0);
    if (n == 0) break;  // the daemon is gone, or ended the guard
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n != sizeof m) continue;
    if (m.add && count < most_groups) {
      guarded[count++] = m.pgid;
    } else if (!m.add) {
      for (size_t i = 0; i < count; ++i)
        if (guarded[i] == m.pgid) {
          guarded[i] = guarded[--count];
          break;
        }
    }
  }
  for (size_t i = 0; i < count; ++i) ::kill(-guarded[i], SIGKILL);
  ::_exit(0);
}

}  // namespace

group_guard::group_guard() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
    throw std::runtime_error(std::string("cannot create the group guard's socket: ") +
                             std::strerror(errno));
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_ = ::fork();
  if (pid_ == 0) run_guard(ends[1]);
  const int fork_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::close(ends[1]);
  if (pid_ < 0) {
    ::close(ends[0]);
    throw std::runtime_error(std::string("cannot start the group guard: ") +
                             std::strerror(fork_error));
  }
  socket_ = ends[0];
}

group_guard::~group_guard() {
  // It holds no group by now: the runner removed each before reaping its leader.
  ::close(socket_);
  ::waitpid(pid_, nullptr, 0);
}

// A guard that is gone (killed by hand) takes no more groups; the daemon's restart still
// kills what its tasks left (group_records.hpp).
void group_guard::add(pid_t pgid) const {
  const guard_message m{1, pgid};
  ::send(socket_, &m, sizeof m, MSG_NOSIGNAL);
}

void group_guard::remove(pid_t pgid) const {
  const guard_message m{0, pgid};
  ::send(socket_, &m, sizeof m, MSG_NOSIGNAL);
}

}  // namespace troupe::runner
