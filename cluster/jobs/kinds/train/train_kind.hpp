// `train`: data-parallel training over `world_size` ranks, one task each (docs/jobs.md,
// "Fields of train"). parse_fields checks every field, with the contradictions between them,
// into a training::train_spec and returns its JSON (training::to_json): the form the head stores
// and each rank receives. The job's `tasks` is its world size and `elastic.min_world_size` its
// `min_tasks`; a cuda rank gets one GPU.
//
// A rank's task runs `troupe-rank` with the common variables (common_launch.hpp), the spec in
// TROUPE_TRAIN_SPEC with the round's world_size (WORLD_SIZE: an elastic job's round may run
// fewer ranks) and OPENBLAS_NUM_THREADS=1: torch sizes its own threads from OMP_NUM_THREADS (the
// runner sets it from resources.cpus), and BLAS threads on top of them would oversubscribe the
// cores.
#pragma once

#include <cstddef>

#include "cluster/jobs/job_kind.hpp"

namespace troupe::jobs {

inline constexpr const char* rank_program = "troupe-rank";
inline constexpr const char* train_spec_variable = "TROUPE_TRAIN_SPEC";

// The most bytes of a train spec as JSON. A rank gets it in one environment string, and Linux
// execs none longer than MAX_ARG_STRLEN (128 KiB, "NAME=" included).
inline constexpr size_t max_train_spec_bytes = 120 * 1024;

class train_kind : public job_kind {
 public:
  std::string_view name() const override { return "train"; }
  std::vector<std::string_view> field_names() const override;
  nlohmann::json parse_fields(const spec_map& spec) const override;
  void derive_common_fields(const spec_map& spec, job_spec& out) const override;
  task_launch launch(const job_spec& spec, const task_context& task) const override;
};

}  // namespace troupe::jobs
