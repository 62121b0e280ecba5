// The ids of jobs and of their task attempts. A job id is `j` and 16 lowercase hex digits,
// random; an attempt id is "<job id>.<task index>.<attempt number>", decimal without leading
// zeros, so that each attempt has exactly one id and a superseded attempt is told apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::jobs {

std::string new_job_id();
bool is_job_id(std::string_view text);

std::string attempt_id(std::string_view job_id, uint32_t task_index, uint32_t attempt);

struct attempt_ref {
  std::string job_id;
  uint32_t task_index = 0;
  uint32_t attempt = 0;
  bool operator==(const attempt_ref& o) const {
    return job_id == o.job_id && task_index == o.task_index && attempt == o.attempt;
  }
};

// The parts of an id attempt_id() made, or nullopt for any other text.
std::optional<attempt_ref> parse_attempt_id(std::string_view text);

}  // namespace troupe::jobs
