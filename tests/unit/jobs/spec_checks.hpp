// What the spec and launch tests compare: the field and message a spec is refused with.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "cluster/jobs/job_ids.hpp"
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/job_spec.hpp"

namespace troupe::jobs::test {

struct refusal {
  std::string field;
  std::string message;  // spec_error::what()
  bool operator==(const refusal& o) const { return field == o.field && message == o.message; }
};

inline std::ostream& operator<<(std::ostream& out, const refusal& r) {
  return out << "{field \"" << r.field << "\", \"" << r.message << "\"}";
}

// How `text` is refused; field "(accepted)" when it parses.
inline refusal refused(std::string_view text) {
  try {
    parse_job_spec(text);
  } catch (const spec_error& e) {
    return {e.field(), e.what()};
  }
  return {"(accepted)", ""};
}

// The value of the variable `name` of a launch, or "(unset)".
inline std::string variable_of(const task_launch& launch, const std::string& name) {
  for (const auto& [key, value] : launch.env)
    if (key == name) return value;
  return "(unset)";
}

// A valid command spec followed by `more` top-level fields.
inline std::string command_spec(const std::string& more = "") {
  return "name: etl\nkind: command\nargv: [echo, hi]\n" + more;
}

// Task `index` of a 2-task gang with one task per node; task 0's node is 10.0.0.1.
inline task_context gang_task(uint32_t index, uint16_t master_port) {
  task_context task;
  task.job_id = "j00000000000000aa";
  task.attempt_id = attempt_id(task.job_id, index, 1);
  task.task_index = index;
  task.task_count = 2;
  task.local_rank = 0;
  task.local_world_size = 1;
  task.master_addr = "10.0.0.1";
  task.master_port = master_port;
  return task;
}

}  // namespace troupe::jobs::test
