// The one registry of the built-in job kinds.
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/kinds/command/command_kind.hpp"

namespace troupe::jobs {

job_kind::~job_kind() = default;

const std::vector<const job_kind*>& job_kinds() {
  static const command_kind command;
  static const std::vector<const job_kind*> kinds{&command};
  return kinds;
}

const job_kind* find_kind(std::string_view name) {
  for (const auto* kind : job_kinds())
    if (kind->name() == name) return kind;
  return nullptr;
}

}  // namespace troupe::jobs
