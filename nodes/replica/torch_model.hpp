// A TorchScript model as a replica's batcher runs it (plain interface: torch stays in the .cpp).
#pragma once

#include <string>

#include "cluster/inference/dynamic_batcher.hpp"
#include "cluster/inference/predictor.hpp"

namespace troupe::replica {

// Sizes torch's threads once per process (OPENBLAS_NUM_THREADS=1 comes from the launch).
void set_torch_threads(int threads);

// Loads the module at `path` and checks it answers one row of `signature.input_features`
// zeros; the forward function gives probabilities for a `logits` model (softmax per row).
// Throws std::runtime_error saying why it cannot be served.
inference::forward_fn load_torchscript(const std::string& path,
                                       const inference::model_signature& signature);

}  // namespace troupe::replica
