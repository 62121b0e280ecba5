// Real `trouped` processes on loopback, for integration tests and benchmarks: each daemon gets its
// own temp data dir and log file; every process is killed by PID and every directory removed when
// the cluster object goes away. Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cluster/transport/socket_loop.hpp"

namespace troupe::local {

using namespace std::chrono_literals;

// Polls `condition` every 20 ms until it holds or `limit` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit);

struct command_result {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs a program to completion; it is killed after `limit`.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds limit = 30s);

class daemon {
 public:
  daemon(std::string name, std::vector<std::string> args, std::string data_dir,
         std::string log_file);
  ~daemon();
  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  void start();
  void signal(int sig) const;
  // Waits for the process to exit (bounded); returns its exit status or -1.
  int wait_exit(std::chrono::milliseconds limit);
  bool running() const { return pid_ > 0; }
  std::string log() const;

  const std::string& name() const { return name_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }

 private:
  std::string name_;
  std::vector<std::string> args_;
  std::string data_dir_;
  std::string log_file_;
  pid_t pid_ = -1;
};

class cluster {
 public:
  cluster();
  ~cluster();

  // Starts a head on an ephemeral loopback port and waits for its endpoint.
  daemon& start_head(std::vector<std::string> extra = {});
  // Restarts the head (which must have exited) on the same data dir and port.
  daemon& restart_head(std::vector<std::string> extra = {});
  daemon& start_node(const std::string& name, std::vector<std::string> extra = {});

  // `troupe --head ENDPOINT --credentials ADMIN args...`
  command_result troupe(std::vector<std::string> args) const;
  // The head's admin credential file, and its keys for a raw client (request_client).
  std::string admin_credentials() const { return root_ + "/head/admin.credentials"; }
  transport::curve_keys admin_keys() const;
  // The join token the head keeps in its data dir (start_node passes it).
  std::string join_token() const;
  // Enrolls a new key of role node for `node_id` (32 hex digits) with the join token, as a
  // joining daemon does; its keys are for a raw client speaking as that node.
  transport::curve_keys enroll_node_key(const std::string& node_id, const std::string& name) const;
  // `troupe nodes --json`, by node name; empty when the head did not answer.
  std::map<std::string, nlohmann::json> nodes() const;
  // Waits until the named node reports `state`; returns whether it did.
  bool wait_for_state(const std::string& name, const std::string& state,
                      std::chrono::milliseconds limit = 15s) const;
  bool wait_for_alive_count(size_t count, std::chrono::milliseconds limit = 15s) const;

  daemon& head() { return *daemons_.at("head"); }
  daemon& node(const std::string& name) { return *daemons_.at(name); }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& root() const { return root_; }
  std::string dump_logs() const;

 private:
  daemon& launch_head(const std::string& listen, std::vector<std::string> extra);

  std::string root_;
  std::string endpoint_;
  std::map<std::string, std::unique_ptr<daemon>> daemons_;
};

struct process_sample {
  double cpu_seconds = 0;           // user + system time so far
  double children_cpu_seconds = 0;  // the same of its children it has reaped
  long rss_kb = 0;                  // resident set size now
};

// Reads a process's CPU time and RSS from /proc.
process_sample sample_process(pid_t pid);

// The processes whose environment holds `entry` ("NAME=value"), e.g. a task's
// "TROUPE_ATTEMPT_ID=<attempt id>".
std::vector<pid_t> processes_with(const std::string& entry);

// A Troupe program: from $TROUPE_BIN_DIR, else beside the running executable.
std::string binary(const std::string& name);

}  // namespace troupe::local
