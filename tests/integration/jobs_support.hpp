// What the jobs tests share (jobs_test.cpp, jobs_after_test.cpp, jobs_tenants_test.cpp): a head
// without a node agent and one node (one_node), the CLI calls and bounded waits on its jobs, and
// a raw submit retried until it is answered.
#pragma once

#include <sys/types.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace troupe::local::jobs_testing {

using nlohmann::json;

inline constexpr auto job_limit = 30s;  // how long any one job of these tests may take to end

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Whether the process exists and is not a zombie (an orphan may wait for a lazy reaper).
inline bool process_alive(pid_t pid) {
  const auto stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  const auto after_name = stat.rfind(')');
  return after_name != std::string::npos && stat.substr(after_name + 2, 1) != "Z";
}

inline bool is_final(const std::string& state) {
  return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED";
}

// A head that runs no tasks itself and node-1 with 4 CPUs, 2 GiB and no GPU: every task runs
// on node-1.
struct one_node {
  cluster c;
  one_node() {
    c.start_head({"--no-worker"});
    c.start_node("node-1", {"--cpus", "4", "--memory-mb", "2048", "--gpus", "0"});
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(1), c.dump_logs());
    BOOST_TEST_REQUIRE(c.nodes().count("node-1") == 1u, c.dump_logs());
  }

  // Writes `spec` into the cluster's temp dir; returns its path.
  std::string spec_file(const std::string& spec) const {
    static int count = 0;
    const auto path = c.root() + "/spec-" + std::to_string(++count) + ".yaml";
    std::ofstream(path) << spec;
    return path;
  }

  command_result submit_spec(const std::string& spec, std::vector<std::string> flags = {}) const {
    std::vector<std::string> args{"submit", spec_file(spec)};
    args.insert(args.end(), flags.begin(), flags.end());
    return c.troupe(args);
  }

  // Submits through the CLI; returns the job id it printed.
  std::string submit(const std::string& spec) const {
    auto result = submit_spec(spec);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err + c.dump_logs());
    auto id = result.out.substr(0, result.out.find('\n'));
    BOOST_TEST_REQUIRE(id.size() == 17u, result.out);
    return id;
  }

  // `troupe job ID --json`.
  json job(const std::string& id) const {
    auto result = c.troupe({"job", id, "--json"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    return json::parse(result.out);
  }

  // Waits until the job is in `state`; returns the job as last seen.
  json wait_for_job(const std::string& id, const std::string& state) const {
    json seen;
    const bool reached = wait_until(
        [&] {
          seen = job(id);
          return seen["state"] == state;
        },
        job_limit);
    BOOST_TEST_REQUIRE(reached, "job " + id + " is " + seen.dump() + "\n" + c.dump_logs());
    return seen;
  }

  // Waits until the job has ended, in whichever final state.
  json wait_until_ended(const std::string& id) const {
    json seen;
    const bool ended = wait_until(
        [&] {
          seen = job(id);
          return is_final(seen["state"].get<std::string>());
        },
        job_limit);
    BOOST_TEST_REQUIRE(ended, "job " + id + " is " + seen.dump() + "\n" + c.dump_logs());
    return seen;
  }

  // `troupe jobs --json` with `flags`.
  json jobs(std::vector<std::string> flags = {}) const {
    std::vector<std::string> args{"jobs", "--json"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto result = c.troupe(args);
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    return json::parse(result.out);
  }

  // A path in the cluster's temp dir for a task to write to or wait for.
  std::string path(const std::string& name) const { return c.root() + "/" + name; }
};

// Waits (bounded) until a task wrote a whole number into the file.
inline pid_t pid_written_to(const std::string& file) {
  pid_t pid = 0;
  wait_until(
      [&] {
        const auto text = read_text(file);
        if (text.empty() || text.back() != '\n') return false;
        pid = static_cast<pid_t>(std::stol(text));
        return true;
      },
      job_limit);
  return pid;
}

// Sends the submit until the head answers it with a job (it answers unavailable while the
// submission with the same client request id is not stored yet); nullopt if it never did.
inline std::optional<msg::submit_job_reply> submit_until_answered(
    transport::request_client& client, const msg::submit_job_request& request) {
  std::optional<msg::submit_job_reply> answer;
  wait_until(
      [&] {
        auto reply = client.call(msg::jobs_message{request}, 5s);
        auto* m = reply ? std::get_if<msg::jobs_message>(&reply->body) : nullptr;
        if (auto* r = m ? std::get_if<msg::submit_job_reply>(&m->body) : nullptr) answer = *r;
        return answer.has_value();
      },
      job_limit);
  return answer;
}

}  // namespace troupe::local::jobs_testing
