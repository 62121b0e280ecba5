// The model the serving and batch predict benchmarks score: a TorchScript MLP 52→256→256→10 with
// softmax, made by PyTorch (torch.jit.script) the way a user's own training would make it.
#pragma once

#include <string>

namespace troupe::bench {

inline constexpr int serving_mlp_features = 52;
inline constexpr const char* serving_mlp_classes = "c0,c1,c2,c3,c4,c5,c6,c7,c8,c9";

// Writes it to `file` with `python` (one with torch); throws std::runtime_error when it fails.
void make_serving_mlp(const std::string& python, const std::string& file);

}  // namespace troupe::bench
