#include "tools/cli/commands/predict_progress.hpp"

#include <sstream>

#include "cluster/jobs/job_ids.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {

void predict_progress::add(const msg::metric_entry& entry) {
  const auto ref = jobs::parse_attempt_id(entry.attempt_id);
  const auto* step = std::get_if<msg::step_metric>(&entry.metric);
  if (!ref || !step) return;
  auto& task = by_task_[ref->task_index];
  if (ref->attempt < task.attempt) return;
  task = {ref->attempt, step->step, static_cast<uint64_t>(step->loss), step->samples_per_second};
}

uint64_t predict_progress::rows_done() const {
  uint64_t done = 0;
  for (const auto& [index, task] : by_task_) done += task.done;
  return done;
}

std::optional<uint64_t> predict_progress::rows_total() const {
  if (by_task_.size() < tasks_) return std::nullopt;
  uint64_t total = 0;
  for (const auto& [index, task] : by_task_) total += task.total;
  return total;
}

std::string predict_progress::text() const {
  if (by_task_.empty()) return "";
  const auto done = rows_done();
  const auto total = rows_total();
  double per_second = 0;
  for (const auto& [index, task] : by_task_) per_second += task.per_second;
  std::ostringstream out;
  out << "rows " << done << "/";
  if (total) {
    out << *total << " (" << (*total ? done * 100 / *total : 100) << "%)";
  } else {
    out << "?";
  }
  out << "  " << static_cast<uint64_t>(per_second) << " rows/s  ETA ";
  if (total && per_second > 0)
    out << duration_text(
        static_cast<int64_t>(static_cast<double>(*total - done) * 1000.0 / per_second));
  else
    out << "-";
  return out.str();
}

}  // namespace troupe::cli
