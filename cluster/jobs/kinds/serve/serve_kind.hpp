// `serve`: a long-running inference service over a model of the registry, one replica process
// per task (docs/jobs.md, "Fields of serve"). parse_fields checks every field into an
// inference::serve_spec and returns its JSON (inference::to_json): the form the head stores, its
// service router reads and each replica receives. The job's `tasks` is its `replicas`; a cuda
// replica gets one GPU. A serve job runs until it is cancelled: its replicas are replaced one by
// one (task_grouping::replicas), each up to spec_limits::max_retries times unless the spec says
// otherwise.
//
// A replica's task runs `troupe-replica` with a rank link (it resolves and reports its versions
// through its node), the common variables (common_launch.hpp), the spec in TROUPE_SERVE_SPEC and
// OPENBLAS_NUM_THREADS=1: torch sizes its threads from OMP_NUM_THREADS (the runner sets it from
// resources.cpus), and BLAS threads on top of them would oversubscribe the cores.
#pragma once

#include "cluster/jobs/job_kind.hpp"

namespace troupe::jobs {

inline constexpr const char* replica_program = "troupe-replica";
inline constexpr const char* serve_spec_variable = "TROUPE_SERVE_SPEC";

namespace serve_limits {
inline constexpr uint64_t max_batch = 4096;
inline constexpr uint64_t max_delay_ms = 1000;
inline constexpr size_t max_traffic_versions = 16;
inline constexpr uint64_t max_weight = 1'000'000;
inline constexpr double max_rate_per_s = 10'000'000;
inline constexpr uint64_t max_burst = 100'000'000;
inline constexpr uint64_t max_cache_entries = 100'000'000;
inline constexpr uint64_t max_cache_ttl_s = 7 * 24 * 3600;
}  // namespace serve_limits

class serve_kind : public job_kind {
 public:
  std::string_view name() const override { return "serve"; }
  std::vector<std::string_view> field_names() const override;
  nlohmann::json parse_fields(const spec_map& spec) const override;
  void derive_common_fields(const spec_map& spec, job_spec& out) const override;
  task_grouping grouping() const override { return task_grouping::replicas; }
  task_launch launch(const job_spec& spec, const task_context& task) const override;
};

}  // namespace troupe::jobs
