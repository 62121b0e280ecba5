// What the spec tests compare: the field and message a spec is refused with.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

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

// A valid command spec followed by `more` top-level fields.
inline std::string command_spec(const std::string& more = "") {
  return "name: etl\nkind: command\nargv: [echo, hi]\n" + more;
}

}  // namespace troupe::jobs::test
