#include "cluster/training/gradient_sync.hpp"

namespace troupe::training {

gradient_sync::~gradient_sync() = default;

}  // namespace troupe::training
