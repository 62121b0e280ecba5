#include "cluster/runner/spawn.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

namespace troupe::runner {

namespace {

// What the child reports through its close-on-exec pipe when it cannot exec; the pipe reaching
// end-of-file without a report means the exec succeeded.
enum class child_step : int { set_up, enter_workdir, exec };
struct child_failure {
  child_step step;
  int error;
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
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

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

[[noreturn]] void report_and_exit(int failure_fd, child_step step) {
  child_failure failure{step, errno};
  ssize_t ignored = ::write(failure_fd, &failure, sizeof failure);
  (void)ignored;
  ::_exit(127);
}

// Runs in the forked child of a multi-threaded process: async-signal-safe calls only, on data
// prepared before the fork.
[[noreturn]] void become_task(pid_t parent, int failure_fd, int in, int out, int err,
                              const char* workdir, const std::vector<char*>& candidates,
                              char* const* argv, char* const* envp) {
  if (::setpgid(0, 0) != 0 || ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    report_and_exit(failure_fd, child_step::set_up);
  if (::getppid() != parent) ::_exit(127);  // the forking thread ended before prctl took effect
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0)
    report_and_exit(failure_fd, child_step::set_up);
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);  // descriptors a library opened without O_CLOEXEC
  if (::chdir(workdir) != 0) report_and_exit(failure_fd, child_step::enter_workdir);
  int exec_error = ENOENT;
  for (char* candidate : candidates) {
    if (candidate == nullptr) break;
    ::execve(candidate, argv, envp);
    if (errno == EACCES) {
      exec_error = EACCES;
    } else if (errno != ENOENT && errno != ENOTDIR) {
      exec_error = errno;
      break;
    }
  }
  errno = exec_error;
  report_and_exit(failure_fd, child_step::exec);
}

std::string failure_text(const child_failure& failure, const spawn_request& request) {
  auto why = std::generic_category().message(failure.error);
  switch (failure.step) {
    case child_step::set_up: return "cannot set up the process: " + why;
    case child_step::enter_workdir: return "cannot enter workdir " + request.workdir + ": " + why;
    case child_step::exec:
      if (failure.error == ENOENT) return "no such program: " + request.argv[0];
      return "cannot exec " + request.argv[0] + ": " + why;
  }
  return why;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::generic_category().message(errno);
}

int open_log(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

std::variant<spawned_process, std::string> spawn_process(const spawn_request& request) {
  if (request.argv.empty() || request.argv[0].empty()) return std::string("empty argv");
  file_descriptor in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return errno_text("cannot open /dev/null");
  file_descriptor out(open_log(request.stdout_path));
  if (out.get() < 0) return errno_text("cannot create " + request.stdout_path);
  file_descriptor err(open_log(request.stderr_path));
  if (err.get() < 0) return errno_text("cannot create " + request.stderr_path);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return errno_text("cannot create a pipe");
  file_descriptor failure_read(pipe_fds[0]), failure_write(pipe_fds[1]);

  auto argv = pointers(request.argv);
  auto envp = pointers(request.environment);
  auto candidates = pointers(request.program_candidates);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return errno_text("cannot fork");
  if (pid == 0)
    become_task(parent, failure_write.get(), in.get(), out.get(), err.get(),
                request.workdir.c_str(), candidates, argv.data(), envp.data());
  failure_write.reset(-1);

  child_failure failure{};
  ssize_t n;
  do {
    n = ::read(failure_read.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    ::waitpid(pid, nullptr, 0);
    return failure_text(failure, request);
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
