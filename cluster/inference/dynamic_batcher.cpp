#include "cluster/inference/dynamic_batcher.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

namespace troupe::inference {

dynamic_batcher::dynamic_batcher(batching_policy policy, uint32_t feature_count, forward_fn forward)
    : policy_(policy), feature_count_(feature_count), forward_(std::move(forward)) {}

dynamic_batcher::~dynamic_batcher() {
  for (auto& r : queue_) r.done({"the replica is stopping", 0, {}});
}

void dynamic_batcher::submit(std::vector<float> features, uint32_t rows,
                             std::function<void(forward_output)> done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(features), rows, std::move(done)});
  }
}

size_t dynamic_batcher::waiting() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::vector<dynamic_batcher::request> dynamic_batcher::next_pass() {
  std::lock_guard lock(mutex_);
  std::vector<request> batch;
  uint64_t rows = 0;
  while (!queue_.empty() && (batch.empty() || rows + queue_.front().rows <= policy_.max_batch)) {
    rows += queue_.front().rows;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

forward_output dynamic_batcher::forward(const std::vector<float>& inputs, uint32_t rows) const {
  forward_output out;
  try {
    out = forward_(inputs, rows);
    if (out.error.empty() && out.outputs.size() != size_t{rows} * out.output_count)
      out.error = "the model gave " + std::to_string(out.outputs.size()) + " values for " +
                  std::to_string(rows) + " rows of " + std::to_string(out.output_count);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  if (!out.error.empty()) out.outputs.clear();
  return out;
}

void dynamic_batcher::run_pass(std::vector<request>& batch) {
  if (batch.size() == 1) return batch[0].done(forward(batch[0].features, batch[0].rows));
  uint32_t rows = 0;
  for (const auto& r : batch) rows += r.rows;
  std::vector<float> inputs;
  inputs.reserve(size_t{rows} * feature_count_);
  for (const auto& r : batch) inputs.insert(inputs.end(), r.features.begin(), r.features.end());
  const auto out = forward(inputs, rows);
  size_t offset = 0;
  for (auto& r : batch) {
    if (!out.error.empty()) {
      r.done({out.error, 0, {}});
      continue;
    }
    const size_t count = size_t{r.rows} * out.output_count;
    const auto begin = out.outputs.begin() + static_cast<std::ptrdiff_t>(offset);
    r.done({"", out.output_count,
            std::vector<float>(begin, begin + static_cast<std::ptrdiff_t>(count))});
    offset += count;
  }
}

void dynamic_batcher::run_waiting() {
  for (auto batch = next_pass(); !batch.empty(); batch = next_pass()) run_pass(batch);
}

void softmax_rows(std::vector<float>& values, uint32_t per_row) {
  if (per_row == 0) return;
  for (size_t row = 0; row + per_row <= values.size(); row += per_row) {
    const auto begin = values.begin() + static_cast<std::ptrdiff_t>(row);
    const auto end = begin + per_row;
    const float top = *std::max_element(begin, end);
    float sum = 0;
    for (auto it = begin; it != end; ++it) sum += (*it = std::exp(*it - top));
    for (auto it = begin; it != end; ++it) *it /= sum;
  }
}

}  // namespace troupe::inference
