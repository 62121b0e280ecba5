// The cluster the training tests run gang jobs on (training_link_test, training_job_test): a
// head without a node agent and node-1 and node-2 with `cpus_per_node` CPUs each, and the CLI
// calls they make on its jobs. Every wait is bounded by `job_limit`. With `node_programs`, the
// nodes run the trouped of that folder (and so the troupe-rank beside it).
#pragma once

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cluster/jobs/job_model.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace troupe::local {

struct rank_cluster {
  cluster c;
  std::chrono::milliseconds job_limit;

  int cpus_per_node;
  std::vector<std::string> node_args;

  // `node_programs`: where the nodes find troupe-rank (TROUPE_BIN_DIR), when not beside trouped;
  // `more_node_args`: flags every node daemon gets besides its resources.
  rank_cluster(int cpus, std::chrono::milliseconds limit, const std::string& node_programs = "",
               std::vector<std::string> more_node_args = {})
      : job_limit(limit), cpus_per_node(cpus), node_args(std::move(more_node_args)) {
    c.start_head({"--no-worker"});
    const char* before = std::getenv("TROUPE_BIN_DIR");
    const std::optional<std::string> programs =
        before ? std::optional<std::string>(before) : std::nullopt;
    if (!node_programs.empty()) ::setenv("TROUPE_BIN_DIR", node_programs.c_str(), 1);
    for (const char* name : {"node-1", "node-2"}) start_node(name);
    if (programs)
      ::setenv("TROUPE_BIN_DIR", programs->c_str(), 1);
    else
      ::unsetenv("TROUPE_BIN_DIR");
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(2), c.dump_logs());
  }

  // A node like node-1 and node-2 (a replacement, say).
  void start_node(const std::string& name) {
    std::vector<std::string> args{
        "--cpus", std::to_string(cpus_per_node), "--memory-mb", "2048", "--gpus", "0"};
    args.insert(args.end(), node_args.begin(), node_args.end());
    c.start_node(name, args);
  }

  // Submits the YAML `spec`; returns the job id.
  std::string submit(const std::string& spec) const {
    static int count = 0;
    const auto path = c.root() + "/spec-" + std::to_string(++count) + ".yaml";
    std::ofstream(path) << spec;
    auto result = c.troupe({"submit", path});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err + c.dump_logs());
    return result.out.substr(0, result.out.find('\n'));
  }

  nlohmann::json job(const std::string& id) const {
    auto result = c.troupe({"job", id, "--json"});
    BOOST_TEST_REQUIRE(result.exit_code == 0, result.err);
    return nlohmann::json::parse(result.out);
  }

  std::string logs(const std::string& id, int task) const {
    return c.troupe({"logs", id, "--task", std::to_string(task)}).out;
  }
  std::string all_logs(const std::string& id) const { return logs(id, 0) + logs(id, 1); }

  nlohmann::json wait_for(const std::string& id,
                          const std::function<bool(const nlohmann::json&)>& done) const {
    nlohmann::json seen;
    const bool reached = wait_until(
        [&] {
          seen = job(id);
          return done(seen);
        },
        job_limit);
    BOOST_TEST_REQUIRE(reached,
                       "job " + id + " is " + seen.dump() + "\n" + all_logs(id) + c.dump_logs());
    return seen;
  }

  nlohmann::json wait_until_ended(const std::string& id) const {
    return wait_for(id, [](const nlohmann::json& j) {
      const auto s = jobs::parse_job_state(j["state"].get<std::string>());
      return s && jobs::is_final(*s);
    });
  }

  // What `troupe metrics ID --json` shows, once `enough` holds of it or after 10 s.
  std::vector<nlohmann::json> metrics(
      const std::string& id,
      const std::function<bool(const std::vector<nlohmann::json>&)>& enough) const {
    std::vector<nlohmann::json> entries;
    wait_until(
        [&] {
          auto shown = c.troupe({"metrics", id, "--json"});
          entries.clear();
          std::istringstream lines(shown.out);
          for (std::string line; std::getline(lines, line);)
            entries.push_back(nlohmann::json::parse(line));
          return enough(entries);
        },
        std::chrono::seconds(10));
    return entries;
  }
};

}  // namespace troupe::local
