// The one registry of the built-in job kinds.
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/kinds/command/command_kind.hpp"
#include "cluster/jobs/kinds/predict/predict_kind.hpp"
#include "cluster/jobs/kinds/serve/serve_kind.hpp"
#include "cluster/jobs/kinds/train/train_kind.hpp"

namespace troupe::jobs {

job_kind::~job_kind() = default;

void job_kind::derive_common_fields(const spec_map&, job_spec&) const {}

task_grouping job_kind::grouping() const { return task_grouping::gang; }

const std::vector<const job_kind*>& job_kinds() {
  static const command_kind command;
  static const train_kind train;
  static const serve_kind serve;
  static const predict_kind predict;
  static const std::vector<const job_kind*> kinds{&command, &train, &serve, &predict};
  return kinds;
}

const job_kind* find_kind(std::string_view name) {
  for (const auto* kind : job_kinds())
    if (kind->name() == name) return kind;
  return nullptr;
}

}  // namespace troupe::jobs
