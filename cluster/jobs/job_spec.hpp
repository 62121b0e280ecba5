// Job specs as people write them (YAML; JSON is YAML, so clients in other languages may send
// JSON) and as the head stores them (JSON from to_json, parsed back by the same parser:
// parse_job_spec(to_json(spec)) == spec). docs/jobs.md documents every field.
//
// parse_job_spec refuses, with a spec_error naming the field: a document that is not a
// mapping or is larger than max_spec_bytes, YAML errors, duplicate keys, unknown fields at any
// depth, wrong types, missing required fields (name, kind and the kind's own), values out of
// range, names and tenants outside [A-Za-z0-9._-]{1,128}, label text that a node could not
// carry, and `after` entries that are not job ids. The kind's own fields are checked by the
// kind (job_kind.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/jobs/job_model.hpp"
#include "cluster/jobs/spec_error.hpp"

namespace troupe::jobs {

inline constexpr size_t max_spec_bytes = 1 << 20;

// The ranges the spec's common fields are checked against.
namespace spec_limits {
inline constexpr double max_cpus = 4096;
inline constexpr uint64_t max_memory_mb = uint64_t{16} << 20;  // 16 TiB
inline constexpr uint64_t max_gpus = 64;
inline constexpr uint64_t max_tasks = 1024;
inline constexpr uint64_t max_retries = 100;
inline constexpr double max_backoff_s = 3600;
inline constexpr uint64_t max_timeout_s = 30 * 24 * 3600;
}  // namespace spec_limits

// The fields every kind has, at the top level of a spec.
const std::vector<std::string_view>& common_field_names();

job_spec parse_job_spec(std::string_view text);

std::string to_json(const job_spec& spec);

}  // namespace troupe::jobs
