// troupe-bench-train's harness: a local cluster of one-CPU nodes that runs train jobs, asked
// through its protocol (cheaper than the CLI), the CPU time of the jobs' rank processes, and
// the ranks' step reports as the benchmark counts them.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/jobs/job_model.hpp"
#include "cluster/security/key_registry.hpp"
#include "cluster/transport/request_client.hpp"
#include "tools/bench/training_workload.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace troupe::bench {

using namespace std::chrono_literals;

inline bool is_final(const std::string& state) {
  const auto s = jobs::parse_job_state(state);
  return s && jobs::is_final(*s);
}

// A head with no worker and `nodes` nodes of one CPU, and a client of its protocol (cheaper
// than the CLI: polling must not take CPU from the ranks).
class train_cluster {
 public:
  explicit train_cluster(int nodes) {
    cluster_.start_head({"--no-worker"});
    for (int i = 1; i <= nodes; ++i)
      cluster_.start_node("node-" + std::to_string(i),
                          {"--cpus", "1", "--memory-mb", "2048", "--gpus", "0"});
    if (!cluster_.wait_for_alive_count(static_cast<size_t>(nodes), 30s))
      throw std::runtime_error("the nodes did not register:\n" + cluster_.dump_logs());
    client_.emplace(cluster_.endpoint(), "bench-train", cluster_.admin_keys());
  }

  local::cluster& cluster() { return cluster_; }

  std::string submit(const nlohmann::json& spec) {
    auto reply = client_->call(msg::jobs_message{msg::submit_job_request{spec.dump(), ""}}, 10s);
    if (const auto r = reply_of<msg::jobs_message, msg::submit_job_reply>(reply)) return r->job_id;
    throw std::runtime_error("submit failed: " + error_of(reply));
  }

  msg::get_job_reply job(const std::string& id) {
    auto reply = client_->call(msg::jobs_message{msg::get_job_request{id}}, 10s);
    if (const auto r = reply_of<msg::jobs_message, msg::get_job_reply>(reply)) return *r;
    throw std::runtime_error("job " + id + ": " + error_of(reply));
  }

  // Polls the job every 20 ms until it ends, giving each answer to `seen`.
  msg::get_job_reply wait_until_ended(
      const std::string& id, std::chrono::seconds limit,
      const std::function<void(const msg::get_job_reply&)>& seen = {}) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto j = job(id);
      if (seen) seen(j);
      if (is_final(j.job.state)) return j;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("job " + id + " is still " + j.job.state + " after " +
                                 std::to_string(limit.count()) + " s\n" + cluster_.dump_logs());
      std::this_thread::sleep_for(20ms);
    }
  }

  // The job's metric entries after `after` (all of them from 0); `after` moves past them.
  std::vector<msg::metric_entry> metrics(const std::string& id, uint64_t& after) {
    std::vector<msg::metric_entry> entries;
    for (;;) {
      auto reply =
          client_->call(msg::training_message{msg::job_metrics_request{id, after, 0}}, 10s);
      const auto r = reply_of<msg::training_message, msg::job_metrics_reply>(reply);
      if (!r) throw std::runtime_error("metrics of " + id + ": " + error_of(reply));
      if (r->entries.empty()) return entries;
      entries.insert(entries.end(), r->entries.begin(), r->entries.end());
      after = r->next;
    }
  }

  std::vector<msg::metric_entry> all_metrics(const std::string& id) {
    uint64_t after = 0;
    return metrics(id, after);
  }

  // Where an attempt's task ran: its working directory on its node.
  std::string workdir(const msg::attempt_info& attempt) {
    return cluster_.node(attempt.node_name).data_dir() + "/tasks/work/" + attempt.attempt_id;
  }

 private:
  template <class Area, class Reply>
  static std::optional<Reply> reply_of(const std::optional<msg::envelope>& env) {
    const auto* area = env ? std::get_if<Area>(&env->body) : nullptr;
    const auto* r = area ? std::get_if<Reply>(&area->body) : nullptr;
    if (!r) return std::nullopt;
    return *r;
  }
  static std::string error_of(const std::optional<msg::envelope>& env) {
    if (!env) return "no reply";
    if (const auto* e = std::get_if<msg::error>(&env->body)) return e->message;
    return "an unexpected reply";
  }

  local::cluster cluster_;
  std::optional<transport::request_client> client_;
};

// The CPU time of a job's rank processes, sampled while the job runs, so that each rank's CPU
// time at its step reports can be read off afterwards: interpolated between samples, each one
// counted in clock ticks (10 ms).
class cpu_sampler {
 public:
  void sample(const msg::get_job_reply& job) {
    for (const auto& a : job.attempts) {
      if (a.state != "RUNNING" || pids_.count(a.attempt_id)) continue;
      const auto found = local::processes_with("TROUPE_ATTEMPT_ID=" + a.attempt_id);
      if (found.size() == 1) pids_[a.attempt_id] = found.front();
    }
    const double now = static_cast<double>(security::unix_now_ms()) / 1e3;
    for (const auto& [attempt, pid] : pids_) {
      if (ended_.count(attempt)) continue;
      try {
        samples_[attempt].emplace_back(now, local::sample_process(pid).cpu_seconds);
      } catch (const std::exception&) {  // it exited: /proc has nothing left to read
        ended_.insert(attempt);
      }
    }
  }

  // The attempt's CPU seconds at `unix_seconds`; nullopt outside its samples.
  std::optional<double> cpu_at(const std::string& attempt, double unix_seconds) const {
    const auto it = samples_.find(attempt);
    if (it == samples_.end()) return std::nullopt;
    const auto& points = it->second;
    for (size_t i = 1; i < points.size(); ++i) {
      const auto& [t0, cpu0] = points[i - 1];
      const auto& [t1, cpu1] = points[i];
      if (unix_seconds < t0 || unix_seconds > t1) continue;
      return t1 > t0 ? cpu0 + (cpu1 - cpu0) * (unix_seconds - t0) / (t1 - t0) : cpu0;
    }
    return std::nullopt;
  }

 private:
  std::map<std::string, pid_t> pids_;
  std::set<std::string> ended_;
  std::map<std::string, std::vector<std::pair<double, double>>> samples_;
};

// Each rank's step reports, in step order, as (step, unix seconds, CPU seconds when the
// sampler knows them, else NaN).
inline std::map<std::string, std::vector<bench::step_time>> steps_by_attempt(
    const std::vector<msg::metric_entry>& entries, const cpu_sampler* cpu = nullptr) {
  std::map<std::string, std::vector<bench::step_time>> by_attempt;
  for (const auto& e : entries) {
    const auto* s = std::get_if<msg::step_metric>(&e.metric);
    if (!s) continue;
    const double at = static_cast<double>(s->at_ms) / 1e3;
    const auto cpu_seconds = cpu ? cpu->cpu_at(e.attempt_id, at) : std::nullopt;
    // Unknown CPU time makes the rank's per-CPU figure unknown too (throughput_of: 0).
    constexpr double unknown = std::numeric_limits<double>::quiet_NaN();
    by_attempt[e.attempt_id].push_back(
        {static_cast<int64_t>(s->step), at, cpu_seconds.value_or(unknown)});
  }
  for (auto& [attempt, steps] : by_attempt)
    std::sort(steps.begin(), steps.end(),
              [](const auto& a, const auto& b) { return a.step < b.step; });
  return by_attempt;
}

}  // namespace troupe::bench
