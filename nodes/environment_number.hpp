// A whole number a task process reads from its environment (WORLD_SIZE, TROUPE_TASK_COUNT,
// OMP_NUM_THREADS, ...), checked at the edge.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <optional>

namespace troupe {

// `text` as a whole number in [low, high]; nullopt when it is missing, not a whole number, or
// out of range.
inline std::optional<long> whole_number(const char* text, long low, long high) {
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || n < low || n > high) return std::nullopt;
  return n;
}

}  // namespace troupe
