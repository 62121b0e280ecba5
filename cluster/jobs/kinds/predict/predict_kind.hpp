// `predict`: batch scoring of a model of the registry over a CSV dataset of the artifact store
// (docs/jobs.md, "Fields of predict"). parse_fields checks every field into a predict_spec and
// returns its JSON (to_json): the form the head stores and each task receives. The job's `tasks`
// (1 to predict_limits::max_tasks) split the dataset's rows into contiguous shards, one a task.
//
// A task runs `troupe-predict` with a rank link (it resolves the model, fetches the dataset and
// the model, reports its rows as progress and publishes its part through its node), the common
// variables (common_launch.hpp), the spec in TROUPE_PREDICT_SPEC and OPENBLAS_NUM_THREADS=1:
// torch sizes its threads from OMP_NUM_THREADS (the runner sets it from resources.cpus), and BLAS
// threads on top of them would oversubscribe the cores.
#pragma once

#include <cstdint>

#include "cluster/jobs/job_kind.hpp"

namespace troupe::jobs {

inline constexpr const char* predict_program = "troupe-predict";
inline constexpr const char* predict_spec_variable = "TROUPE_PREDICT_SPEC";

namespace predict_limits {
inline constexpr uint64_t max_tasks = 256;
inline constexpr uint64_t max_batch_rows = 65536;
}  // namespace predict_limits

class predict_kind : public job_kind {
 public:
  std::string_view name() const override { return "predict"; }
  std::vector<std::string_view> field_names() const override;
  nlohmann::json parse_fields(const spec_map& spec) const override;
  void derive_common_fields(const spec_map& spec, job_spec& out) const override;
  task_launch launch(const job_spec& spec, const task_context& task) const override;
};

}  // namespace troupe::jobs
