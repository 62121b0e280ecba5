#include "cluster/training/early_stopping.hpp"

namespace troupe::training {

bool early_stopping::should_stop(double value) {
  const bool improved =
      !state_.has_best || (spec_.mode == "max" ? value > state_.best + spec_.min_delta
                                               : value < state_.best - spec_.min_delta);
  if (improved) {
    state_.has_best = true;
    state_.best = value;
    state_.epochs_without_improvement = 0;
    return false;
  }
  return ++state_.epochs_without_improvement >= spec_.patience;
}

}  // namespace troupe::training
