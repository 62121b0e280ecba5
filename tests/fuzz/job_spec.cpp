// Fuzz target: the job spec parser, which reads text from any submitting client. Whatever the
// bytes, parse_job_spec() returns a spec or throws spec_error (never anything else), and an
// accepted spec stores as JSON that parses back to the same spec.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cluster/jobs/job_spec.hpp"

using namespace troupe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  jobs::job_spec spec;
  try {
    spec = jobs::parse_job_spec(text);
  } catch (const jobs::spec_error&) {
    return 0;
  }
  if (!(jobs::parse_job_spec(jobs::to_json(spec)) == spec)) std::abort();
  return 0;
}
