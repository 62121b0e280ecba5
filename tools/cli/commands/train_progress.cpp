#include "tools/cli/commands/train_progress.hpp"

#include <sstream>

#include "cluster/jobs/job_ids.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

bool of_rank_0(const std::string& attempt_id) {
  const auto ref = jobs::parse_attempt_id(attempt_id);
  return ref && ref->task_index == 0;
}

}  // namespace

void train_progress::add(const msg::metric_entry& entry) {
  if (!of_rank_0(entry.attempt_id)) return;
  if (entry.attempt_id != attempt_) *this = train_progress(epochs_);
  attempt_ = entry.attempt_id;
  if (const auto* s = std::get_if<msg::step_metric>(&entry.metric)) {
    epoch_ = s->epoch;
    loss_ = s->loss;
    last_ = step_seen{s->step, s->at_ms};
    if (!first_) first_ = last_;
    return;
  }
  const auto& e = std::get<msg::epoch_metric>(entry.metric);
  epochs_done_ = e.epoch;
  epoch_ = e.epoch;
  loss_ = e.train_loss;
  if (last_) steps_per_epoch_ = last_->step / e.epoch;
}

std::optional<int64_t> train_progress::eta_ms() const {
  if (steps_per_epoch_ == 0 || !first_ || last_->step <= first_->step ||
      last_->at_ms <= first_->at_ms)
    return std::nullopt;
  const double ms_per_step = static_cast<double>(last_->at_ms - first_->at_ms) /
                             static_cast<double>(last_->step - first_->step);
  const auto total = steps_per_epoch_ * epochs_;
  if (total <= last_->step) return 0;
  return static_cast<int64_t>(ms_per_step * static_cast<double>(total - last_->step));
}

std::string train_progress::text() const {
  if (attempt_.empty()) return "";
  std::ostringstream out;
  out.precision(4);
  out << "epoch " << epoch_ << "/" << epochs_;
  if (last_) out << "  step " << last_->step;
  out << "  loss " << loss_;
  const auto eta = eta_ms();
  out << "  ETA " << (eta ? duration_text(*eta) : "-");
  return out.str();
}

}  // namespace troupe::cli
