#include "cluster/training/lr_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::training {

double learning_rate(const lr_schedule_spec& schedule, double base, int64_t step,
                     int64_t total_steps) {
  if (step < schedule.warmup_steps)
    return base * static_cast<double>(step + 1) / static_cast<double>(schedule.warmup_steps);
  const int64_t t = step - schedule.warmup_steps;
  if (schedule.name == "step" && schedule.step_size > 0)
    return base * std::pow(schedule.gamma, static_cast<double>(t / schedule.step_size));
  if (schedule.name == "cosine") {
    const int64_t span = std::max<int64_t>(total_steps - schedule.warmup_steps, 1);
    const double progress = std::min(1.0, static_cast<double>(t) / static_cast<double>(span));
    return schedule.min_lr + (base - schedule.min_lr) * (1.0 + std::cos(M_PI * progress)) / 2.0;
  }
  return base;
}

}  // namespace troupe::training
