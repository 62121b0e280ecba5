#include "cluster/runner/task_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include "cluster/runner/group_guard.hpp"
#include "cluster/runner/output_log.hpp"
#include "cluster/runner/process_group.hpp"
#include "cluster/runner/spawn.hpp"
#include "cluster/runner/task_environment.hpp"
#include "cluster/runner/work_dirs.hpp"

namespace troupe::runner {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

namespace {

// What other threads ask of one attempt's thread. The fields are guarded by
// shared_state::mutex; a write to wake_fd (an eventfd) interrupts the thread's wait.
struct task_control {
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::string kill_reason;    // the first reason given wins
  bool kill_at_once = false;  // SIGKILL without a grace period
  task_control() = default;
  task_control(const task_control&) = delete;
  task_control& operator=(const task_control&) = delete;
  ~task_control() {
    if (wake_fd >= 0) ::close(wake_fd);
  }
  void wake() const {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd, &one, sizeof one);
    (void)ignored;
  }
};

// Attempt ids name files: letters, digits, '.', '_' and '-', not starting with '.'.
bool valid_attempt_id(const std::string& id) {
  if (id.empty() || id.size() > max_attempt_id_size || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

jobs::task_exit could_not_start(const std::string& why) {
  jobs::task_exit exit;
  exit.reason = "could not start: " + why;
  return exit;
}

}  // namespace

struct task_runner::shared_state {
  runner_options options;
  runner_callbacks callbacks;
  std::vector<std::string> leftovers_killed;
  std::unique_ptr<output_log> output;
  std::unique_ptr<group_records> records;
  std::unique_ptr<group_guard> guard;
  std::unique_ptr<work_dirs> fresh_dirs;  // of tasks that name no workdir
  mutable std::mutex mutex;
  std::condition_variable threads_ended;
  std::map<std::string, std::shared_ptr<task_control>> running;
  size_t threads = 0;  // attempt threads not yet ended, each holding this state
};

namespace {

using shared_state = task_runner::shared_state;

// The most of a task's last stderr line that its failure's reason carries.
constexpr size_t max_reason_line_bytes = 300;

// One attempt, run on its own thread from start to `finished`.
class attempt {
 public:
  attempt(std::shared_ptr<shared_state> state, jobs::task_launch launch,
          std::shared_ptr<task_control> control)
      : state_(std::move(state)), launch_(std::move(launch)), control_(std::move(control)) {}
  ~attempt() {
    for (auto& log : logs_)
      if (log.fd >= 0) ::close(log.fd);
  }
  attempt(const attempt&) = delete;
  attempt& operator=(const attempt&) = delete;

  void run() {
    auto exit = std::visit(
        [this](auto&& result) {
          using result_type = std::decay_t<decltype(result)>;
          if constexpr (std::is_same_v<result_type, spawned_process>) {
            return watch(result);
          } else {
            return could_not_start(result);
          }
        },
        start_process());
    if (made_work_dir_) state_->fresh_dirs->recycle(launch_.attempt_id, launch_.tenant);
    if (state_->callbacks.finished) state_->callbacks.finished(launch_.attempt_id, exit);
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->running.erase(launch_.attempt_id);
    --state_->threads;
    state_->threads_ended.notify_all();
  }

 private:
  // The read end of the pipe a stream of the task writes into.
  struct log_reader {
    log_stream stream;
    int fd = -1;
    uint64_t offset = 0;
  };

  const runner_options& options() const { return state_->options; }

  std::variant<spawned_process, std::string> start_process() {
    if (control_->wake_fd < 0) return "cannot create an eventfd: " + errno_text();
    if (!valid_attempt_id(launch_.attempt_id))
      return "invalid attempt id \"" + launch_.attempt_id + "\"";
    if (launch_.argv.empty() || launch_.argv[0].empty()) return std::string("empty argv");
    spawn_request request;
    // Each inode made costs (ext4 scans recently freed ones): a task makes one at most, its
    // working dir (and reuses an ended attempt's empty one); its output goes through pipes into
    // the node's one output log.
    request.workdir = work_dir_of(options().dir, launch_);
    if (launch_.workdir.empty()) {
      if (auto why = state_->fresh_dirs->make(launch_.attempt_id, launch_.tenant)) return *why;
      made_work_dir_ = true;
    }
    if (launch_.pick_master_port) {
      auto port = pick_free_port();
      if (auto* why = std::get_if<std::string>(&port)) return *why;
      master_port_ = std::get<uint16_t>(port);
    }
    request.argv = launch_.argv;
    request.environment = task_environment(launch_, environ, master_port_);
    request.program_candidates = program_candidates(launch_.argv[0], request.environment);
    int write_ends[2] = {-1, -1};
    for (size_t i = 0; i < 2; ++i) {
      int ends[2];
      if (::pipe2(ends, O_CLOEXEC) != 0) {
        auto why = "cannot create a pipe: " + errno_text();
        for (int fd : write_ends)
          if (fd >= 0) ::close(fd);
        return why;
      }
      ::fcntl(ends[0], F_SETFL, O_NONBLOCK);
      logs_[i].fd = ends[0];
      write_ends[i] = ends[1];
    }
    request.stdout_fd = write_ends[0];
    request.stderr_fd = write_ends[1];
    auto result = spawn_process(request);
    // Only the task holds the write ends now: the pipes end when its group has closed them.
    for (int fd : write_ends) ::close(fd);
    auto* process = std::get_if<spawned_process>(&result);
    if (!process) return result;
    auto slot = state_->records->add(launch_.attempt_id, process->pid);
    if (auto* why = std::get_if<std::string>(&slot)) {
      ::kill(-process->pid, SIGKILL);
      ::waitpid(process->pid, nullptr, 0);
      ::close(process->pidfd);
      return *why;
    }
    record_slot_ = std::get<size_t>(slot);
    state_->guard->add(process->pid);
    return result;
  }

  // Until the process ends: enforces the timeout and the memory limit, carries out kill
  // requests and forwards output. Then kills what is left of its group, reaps it and forwards
  // the rest of its output.
  jobs::task_exit watch(const spawned_process& process) {
    pid_ = process.pid;
    if (state_->callbacks.started)
      state_->callbacks.started(launch_.attempt_id, pid_, master_port_);
    auto now = clock_type::now();
    std::optional<clock_type::time_point> deadline;
    if (launch_.timeout_ms > 0) deadline = now + std::chrono::milliseconds(launch_.timeout_ms);
    auto next_memory = now + options().memory_sample;
    pollfd waits[4] = {{process.pidfd, POLLIN, 0},
                       {control_->wake_fd, POLLIN, 0},
                       {logs_[0].fd, POLLIN, 0},
                       {logs_[1].fd, POLLIN, 0}};
    while (true) {
      std::optional<clock_type::time_point> wake_at;
      const auto earliest = [&](clock_type::time_point t) {
        wake_at = wake_at ? std::min(*wake_at, t) : t;
      };
      if (launch_.memory_limit_mb > 0) earliest(next_memory);
      if (deadline && reason_.empty()) earliest(*deadline);
      if (sigkill_at_) earliest(*sigkill_at_);
      int wait = -1;
      if (wake_at)
        wait = static_cast<int>(std::max<int64_t>(
            std::chrono::ceil<std::chrono::milliseconds>(*wake_at - now).count(), 0));
      if (::poll(waits, 4, wait) < 0 && errno != EINTR) {
        terminate("cannot watch the task: " + errno_text(), true);
        break;
      }
      if (waits[0].revents != 0) break;
      if (waits[1].revents != 0) take_requests();
      for (size_t i = 0; i < 2; ++i)
        if (waits[2 + i].revents != 0 && !read_log(logs_[i], buffer_.size()))
          waits[2 + i].fd = -1;  // at its end: poll skips it
      now = clock_type::now();
      if (deadline && now >= *deadline && reason_.empty()) terminate("timeout", false);
      if (sigkill_at_ && now >= *sigkill_at_) terminate(reason_, true);
      if (launch_.memory_limit_mb > 0 && now >= next_memory) {
        if (group_resident_bytes() > (launch_.memory_limit_mb << 20))
          terminate("memory limit exceeded", true);
        next_memory = now + options().memory_sample;
      }
    }
    auto exit = reap(process);
    state_->records->remove(record_slot_);
    // What is in the pipes now; not up to their ends, which a process that left the group
    // (setsid) may hold open.
    for (auto& log : logs_) {
      int pending = 0;
      if (log.fd >= 0 && ::ioctl(log.fd, FIONREAD, &pending) == 0 && pending > 0)
        read_log(log, static_cast<size_t>(pending));
    }
    name_failure(exit);
    return exit;
  }

  // A process that failed by itself is told by the last line it wrote to stderr (a task's own
  // "why": a bad row of a predict job, a rank's refused dataset), beside its exit code.
  void name_failure(jobs::task_exit& exit) const {
    const auto& line = error_partial_.empty() ? error_line_ : error_partial_;
    if (!exit.reason.empty() || exit.exit_code.value_or(0) == 0 || line.empty()) return;
    exit.reason = "exit code " + std::to_string(*exit.exit_code) + ": " + line;
  }

  void note_error_output(const std::string& data) {
    for (char c : data) {
      if (c != '\n') {
        if (error_partial_.size() < max_reason_line_bytes) error_partial_ += c;
      } else if (!error_partial_.empty()) {
        error_line_ = std::move(error_partial_);
        error_partial_.clear();
      }
    }
  }

  jobs::task_exit reap(const spawned_process& process) {
    siginfo_t info{};
    // Learn how the leader ended without reaping it: its zombie keeps the group id from being
    // reused until what is left of the group has been killed.
    ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
    ::kill(-pid_, SIGKILL);
    state_->guard->remove(pid_);
    siginfo_t reaped{};
    ::waitid(P_PID, static_cast<id_t>(pid_), &reaped, WEXITED);
    ::close(process.pidfd);
    jobs::task_exit exit;
    if (info.si_code == CLD_EXITED) {
      exit.exit_code = info.si_status;
    } else {
      exit.signal = info.si_status;
    }
    exit.reason = reason_;
    return exit;
  }

  void take_requests() {
    uint64_t count;
    ssize_t ignored = ::read(control_->wake_fd, &count, sizeof count);
    (void)ignored;
    std::string reason;
    bool at_once;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      reason = control_->kill_reason;
      at_once = control_->kill_at_once;
    }
    if (!reason.empty()) terminate(reason, at_once);
  }

  // SIGTERM now and SIGKILL after the grace period, or SIGKILL at once. The first reason sticks.
  void terminate(const std::string& reason, bool at_once) {
    if (reason_.empty()) reason_ = reason;
    if (at_once) {
      if (!sigkilled_) ::kill(-pid_, SIGKILL);
      sigkilled_ = true;
      sigkill_at_.reset();
    } else if (!sigkilled_ && !sigkill_at_) {
      ::kill(-pid_, SIGTERM);
      sigkill_at_ = clock_type::now() + options().kill_grace;
    }
  }

  uint64_t group_resident_bytes() const {
    uint64_t total = 0;
    for (const auto& process : live_processes_in_group(pid_)) total += process.resident_bytes;
    return total;
  }

  // Reads up to `limit` bytes of the stream in chunks, copies them to the node's output log and
  // forwards them. Returns false once the pipe has ended.
  bool read_log(log_reader& log, size_t limit) {
    while (limit > 0) {
      ssize_t n = ::read(log.fd, buffer_.data(), std::min(limit, buffer_.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) return false;
      std::string data(buffer_.data(), static_cast<size_t>(n));
      const auto offset = log.offset;
      log.offset += data.size();
      limit -= data.size();
      if (log.stream == log_stream::err) note_error_output(data);
      state_->output->append(launch_.attempt_id, log.stream, offset, data);
      if (state_->callbacks.output)
        state_->callbacks.output(launch_.attempt_id, log.stream, offset, std::move(data));
    }
    return true;
  }

  static std::string errno_text() { return std::generic_category().message(errno); }

  std::shared_ptr<shared_state> state_;
  jobs::task_launch launch_;
  std::shared_ptr<task_control> control_;
  uint16_t master_port_ = 0;
  bool made_work_dir_ = false;  // its working dir is the runner's (the launch names none)
  pid_t pid_ = 0;
  size_t record_slot_ = 0;
  std::string reason_;
  std::optional<clock_type::time_point> sigkill_at_;
  bool sigkilled_ = false;
  log_reader logs_[2] = {{log_stream::out}, {log_stream::err}};
  std::string error_line_, error_partial_;  // stderr's last whole line, and the one after it
  std::string buffer_ = std::string(max_output_chunk, '\0');
};

}  // namespace

task_runner::task_runner(runner_options options, runner_callbacks callbacks)
    : state_(std::make_shared<shared_state>()) {
  std::error_code ec;
  fs::create_directories(options.dir + "/work", ec);
  if (ec) throw std::runtime_error("cannot create " + options.dir + "/work: " + ec.message());
  state_->leftovers_killed = kill_leftover_tasks(options.dir);
  state_->output = std::make_unique<output_log>(options.dir + "/output.log");
  state_->records = std::make_unique<group_records>(options.dir);
  state_->guard = std::make_unique<group_guard>();
  state_->fresh_dirs = std::make_unique<work_dirs>(options.dir + "/work");
  state_->options = std::move(options);
  state_->callbacks = std::move(callbacks);
}

task_runner::~task_runner() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  for (auto& [id, control] : state_->running) {
    if (control->kill_reason.empty()) control->kill_reason = "node stopping";
    control->kill_at_once = true;
    control->wake();
  }
  state_->threads_ended.wait(lock, [this] { return state_->threads == 0; });
}

void task_runner::start(const jobs::task_launch& launch) {
  auto control = std::make_shared<task_control>();
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->running.emplace(launch.attempt_id, control).second) return;
    ++state_->threads;
  }
  try {
    std::thread([task = std::make_shared<attempt>(state_, launch, control)] {
      task->run();
    }).detach();
  } catch (const std::system_error& e) {
    // Reported from the caller's thread: no attempt thread exists to report it.
    if (state_->callbacks.finished)
      state_->callbacks.finished(
          launch.attempt_id, could_not_start(std::string("cannot start a thread: ") + e.what()));
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->running.erase(launch.attempt_id);
    --state_->threads;
    state_->threads_ended.notify_all();
  }
}

void task_runner::kill(const std::string& attempt_id, std::string reason) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto found = state_->running.find(attempt_id);
  if (found == state_->running.end()) return;
  if (reason.empty()) reason = "cancelled";
  if (found->second->kill_reason.empty()) found->second->kill_reason = std::move(reason);
  found->second->wake();
}

const std::vector<std::string>& task_runner::leftovers_killed() const {
  return state_->leftovers_killed;
}

std::vector<std::string> task_runner::running() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  std::vector<std::string> ids;
  ids.reserve(state_->running.size());
  for (const auto& entry : state_->running) ids.push_back(entry.first);
  return ids;
}

std::string work_dir_of(const std::string& tasks_dir, const jobs::task_launch& launch) {
  return launch.workdir.empty() ? tasks_dir + "/work/" + launch.attempt_id : launch.workdir;
}

}  // namespace troupe::runner
