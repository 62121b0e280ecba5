#include "cluster/runner/spawn.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

namespace troupe::runner {

namespace {

enum class child_step : int { none, set_up, enter_workdir, exec };

// Everything the child reads, prepared before the clone. The child shares the parent's memory
// (CLONE_VM) while the parent waits (CLONE_VFORK), so it writes nothing but `failed_step` and
// `error`, and calls only what is async-signal-safe.
struct child_plan {
  int in = -1, out = -1, err = -1;
  const char* workdir = nullptr;
  char* const* candidates = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  child_step failed_step = child_step::none;
  int error = 0;
};

class file_descriptor {
 public:
  explicit file_descriptor(int fd = -1) : fd_(fd) {}
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (const auto& s : strings) result.push_back(const_cast<char*>(s.c_str()));
  result.push_back(nullptr);
  return result;
}

[[noreturn]] void fail(child_plan& plan, child_step step) {
  plan.error = errno;
  plan.failed_step = step;
  ::_exit(127);
}

int become_task(void* argument) {
  auto& plan = *static_cast<child_plan*>(argument);
  // The spawning thread waits (CLONE_VFORK) until the exec, so it cannot end before the
  // parent-death signal is armed: no getppid() check is needed, as it would be after fork().
  if (::setpgid(0, 0) != 0 || ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    fail(plan, child_step::set_up);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(plan.in, 0) < 0 || ::dup2(plan.out, 1) < 0 || ::dup2(plan.err, 2) < 0)
    fail(plan, child_step::set_up);
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // descriptors a library opened without O_CLOEXEC
  if (::chdir(plan.workdir) != 0) fail(plan, child_step::enter_workdir);
  int exec_error = ENOENT;
  for (auto candidate = plan.candidates; *candidate != nullptr; ++candidate) {
    ::execve(*candidate, plan.argv, plan.envp);
    if (errno == EACCES) {
      exec_error = EACCES;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      exec_error = errno;
      break;
    }
  }
  errno = exec_error;
  fail(plan, child_step::exec);
}

// Runs `plan` in a child as posix_spawn does: clone(CLONE_VM | CLONE_VFORK) on a stack of its
// own, with every signal blocked in between so that no handler of the daemon runs in the
// child. Returns once the child has exec'd or exited; -1 when it could not be created.
pid_t clone_child(child_plan& plan) {
  constexpr size_t stack_size = 64 * 1024;
  void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  pid_t pid = ::clone(become_task, static_cast<char*>(stack) + stack_size,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  int clone_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ::munmap(stack, stack_size);
  errno = clone_error;
  return pid;
}

std::string failure_text(const child_plan& plan, const spawn_request& request) {
  auto why = std::generic_category().message(plan.error);
  switch (plan.failed_step) {
    case child_step::none: break;
    case child_step::set_up: return "cannot set up the process: " + why;
    case child_step::enter_workdir: return "cannot enter workdir " + request.workdir + ": " + why;
    case child_step::exec:
      if (plan.error == ENOENT) return "no such program: " + request.argv[0];
      return "cannot exec " + request.argv[0] + ": " + why;
  }
  return why;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::generic_category().message(errno);
}

}  // namespace

std::variant<spawned_process, std::string> spawn_process(const spawn_request& request) {
  if (request.argv.empty() || request.argv[0].empty()) return std::string("empty argv");
  file_descriptor in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return errno_text("cannot open /dev/null");

  auto argv = pointers(request.argv);
  auto envp = pointers(request.environment);
  auto candidates = pointers(request.program_candidates);
  child_plan plan;
  plan.in = in.get();
  plan.out = request.stdout_fd;
  plan.err = request.stderr_fd;
  plan.workdir = request.workdir.c_str();
  plan.candidates = candidates.data();
  plan.argv = argv.data();
  plan.envp = envp.data();
  pid_t pid = clone_child(plan);
  if (pid < 0) return errno_text("cannot create a process");
  if (plan.failed_step != child_step::none) {
    ::waitpid(pid, nullptr, 0);
    return failure_text(plan, request);
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    auto why = errno_text("cannot watch the process");
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return why;
  }
  return spawned_process{pid, pidfd};
}

}  // namespace troupe::runner
