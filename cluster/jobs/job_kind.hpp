// A job kind: what the fields of its spec mean and what process one task runs. Adding a kind
// is one folder in kinds/ and one line in kinds/kinds.cpp; the head, the scheduler and the
// nodes handle every kind alike through this interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/jobs/job_model.hpp"

namespace troupe::jobs {

class spec_map;

// Where one task of a job runs, as the head knows it when it starts the task.
struct task_context {
  std::string job_id;
  std::string attempt_id;
  uint32_t task_index = 0;
  uint32_t task_count = 1;
  uint32_t local_rank = 0;        // among the job's tasks on the same node
  uint32_t local_world_size = 1;  // the job's tasks on the same node
  std::string master_addr;        // task 0's node
  uint16_t master_port = 0;       // 0: not known yet; task 0's node picks it
  std::vector<uint32_t> gpus;     // device indices given to this task
};

// How the head places, retries and ends the tasks of a job (docs/jobs.md, "Gangs and
// independent tasks").
enum class task_grouping {
  gang,      // placed and started together; one ending unsuccessfully ends the round, and
             // the job is retried as a whole
  replicas,  // independent tasks meant to run until cancelled: a task that ends, even with exit
             // code 0, is placed again alone
};

class job_kind {
 public:
  virtual ~job_kind();

  virtual std::string_view name() const = 0;

  // The kind's own top-level field names; none of them is a common field (job_spec.hpp).
  virtual std::vector<std::string_view> field_names() const = 0;

  // Validates the kind's own fields of `spec` (throwing spec_error) and returns them as
  // job_spec::kind_fields. Fields not named by field_names() were refused before.
  virtual nlohmann::json parse_fields(const spec_map& spec) const = 0;

  // Sets the common fields of `out` that follow from the kind's own, once both are parsed into
  // it (a train job runs one task per rank); `spec` is the whole document, to tell a field the
  // spec gave from its default. Refuses a given one that contradicts the kind's fields. The
  // default leaves the common fields as the spec gave them.
  virtual void derive_common_fields(const spec_map& spec, job_spec& out) const;

  // How the kind's tasks relate; the default is a gang.
  virtual task_grouping grouping() const;

  // The process that one task attempt runs; `spec` was parsed by parse_job_spec.
  virtual task_launch launch(const job_spec& spec, const task_context& task) const = 0;
};

// The built-in kinds, registered in one place (kinds/kinds.cpp).
const std::vector<const job_kind*>& job_kinds();
const job_kind* find_kind(std::string_view name);  // nullptr for an unknown name

}  // namespace troupe::jobs
