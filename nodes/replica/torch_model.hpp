// A TorchScript model as a replica's batcher runs it (plain interface: torch stays in the .cpp).
#pragma once

#include <string>

#include "cluster/inference/dynamic_batcher.hpp"
#include "cluster/inference/predictor.hpp"
#include "cluster/inference/serve_spec.hpp"

namespace troupe::replica {

// Sizes torch's threads once per process (OPENBLAS_NUM_THREADS=1 comes from the launch).
void set_torch_threads(int threads);

// Loads the module at `path` onto `device` and checks it answers one row of
// `signature.input_features` zeros; the forward function gives probabilities for a `logits`
// model (softmax per row). On cuda (the GPU the task was given: CUDA_VISIBLE_DEVICES) each pass's
// rows are staged in a pinned host buffer and go to the GPU in one non-blocking copy; the outputs
// come back in one copy. Throws std::runtime_error saying why it cannot be served (no GPU seen
// for cuda, among others).
inference::forward_fn load_torchscript(const std::string& path,
                                       const inference::model_signature& signature,
                                       inference::serve_device device);

}  // namespace troupe::replica
