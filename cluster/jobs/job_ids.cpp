#include "cluster/jobs/job_ids.hpp"

#include <charconv>
#include <cstdio>
#include <random>

namespace troupe::jobs {
namespace {

constexpr size_t job_id_size = 17;

// A canonical decimal uint32: digits only, no leading zero except "0" itself.
std::optional<uint32_t> parse_index(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint32_t value = 0;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string new_job_id() {
  // Seeded once per thread: a std::random_device costs a CPUID (a VM exit under a hypervisor)
  // or an open of /dev/urandom each time it is made.
  thread_local std::mt19937_64 random = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  const uint64_t bits = random();
  char id[job_id_size + 1];
  std::snprintf(id, sizeof id, "j%016llx", static_cast<unsigned long long>(bits));
  return id;
}

bool is_job_id(std::string_view text) {
  if (text.size() != job_id_size || text[0] != 'j') return false;
  for (char c : text.substr(1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string attempt_id(std::string_view job_id, uint32_t task_index, uint32_t attempt) {
  return std::string(job_id) + "." + std::to_string(task_index) + "." + std::to_string(attempt);
}

std::optional<attempt_ref> parse_attempt_id(std::string_view text) {
  const auto first = text.find('.');
  const auto second = first == std::string_view::npos ? first : text.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto job = text.substr(0, first);
  const auto task = parse_index(text.substr(first + 1, second - first - 1));
  const auto attempt = parse_index(text.substr(second + 1));
  if (!is_job_id(job) || !task || !attempt) return std::nullopt;
  return attempt_ref{std::string(job), *task, *attempt};
}

}  // namespace troupe::jobs
