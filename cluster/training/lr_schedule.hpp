// The learning rate at each optimizer step: a linear warm-up (from base/warmup_steps up to
// base) over the first warmup_steps, then the schedule over the remaining steps.
//   constant: base
//   step:     base × gamma^floor(t / step_size), t counted from the end of the warm-up
//   cosine:   min_lr + (base − min_lr) × (1 + cos(π t / T)) / 2, T = total − warmup
#pragma once

#include <cstdint>

#include "cluster/training/train_spec.hpp"

namespace troupe::training {

// `step` counts from 0; `total_steps` is every step of the run (epochs × steps per epoch).
double learning_rate(const lr_schedule_spec& schedule, double base, int64_t step,
                     int64_t total_steps);

}  // namespace troupe::training
