// The fields of a `train` spec read into a training::train_spec, each checked for its type and
// range and against the fields it must agree with (docs/jobs.md, "Fields of train"); a refusal
// is a spec_error naming the field's full path, like `optimizer.lr` or `model.layers[0]`.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cluster/jobs/spec_reader.hpp"
#include "cluster/training/train_spec.hpp"

namespace troupe::jobs {

// The ranges the train fields are checked against.
namespace train_limits {
inline constexpr size_t max_layers = 64;  // widths: input, hidden..., output
inline constexpr int64_t max_width = 1 << 20;
inline constexpr int64_t max_rows = 1'000'000'000;
inline constexpr int64_t max_features = 1 << 16;
inline constexpr int64_t max_classes = 1 << 16;
inline constexpr int64_t max_epochs = 100'000;
inline constexpr int64_t max_batch_size = 1 << 20;
inline constexpr int64_t max_steps = 1'000'000'000;  // warmup_steps, step_size, every_steps
inline constexpr double max_lr = 10;
inline constexpr double max_grad_clip = 1000;
inline constexpr double max_min_delta = 1e6;
inline constexpr int64_t max_patience = 10'000;
inline constexpr int64_t max_keep = 1'000;
inline constexpr int64_t max_bucket_mb = 1'024;
}  // namespace train_limits

// `spec` is the whole document: output.model_name defaults to the job's name.
training::train_spec read_train_fields(const spec_map& spec);

}  // namespace troupe::jobs
