#include "cluster/jobs/job_model.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace troupe::jobs {
namespace {

constexpr std::array<std::string_view, 7> job_state_names{
    "PENDING", "SCHEDULED", "RUNNING", "RETRYING", "SUCCEEDED", "FAILED", "CANCELLED"};
constexpr std::array<std::string_view, 6> attempt_state_names{"SCHEDULED", "RUNNING",   "SUCCEEDED",
                                                              "FAILED",    "CANCELLED", "LOST"};

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

template <class State, size_t N>
std::optional<State> parse(std::string_view s, const std::array<std::string_view, N>& names) {
  for (size_t i = 0; i < N; ++i)
    if (same_ignoring_case(s, names[i])) return static_cast<State>(i);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(job_state s) { return job_state_names[static_cast<size_t>(s)]; }
std::string_view to_string(attempt_state s) { return attempt_state_names[static_cast<size_t>(s)]; }

std::optional<job_state> parse_job_state(std::string_view s) {
  return parse<job_state>(s, job_state_names);
}
std::optional<attempt_state> parse_attempt_state(std::string_view s) {
  return parse<attempt_state>(s, attempt_state_names);
}

bool is_final(job_state s) {
  return s == job_state::succeeded || s == job_state::failed || s == job_state::cancelled;
}
bool is_final(attempt_state s) {
  return s != attempt_state::scheduled && s != attempt_state::running;
}

}  // namespace troupe::jobs
