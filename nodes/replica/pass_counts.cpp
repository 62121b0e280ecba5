#include "nodes/replica/pass_counts.hpp"

namespace troupe::replica {

void pass_counts::count(uint32_t rows) {
  passes_[msg::pass_row_bucket(rows)].fetch_add(1, std::memory_order_relaxed);
  rows_.fetch_add(rows, std::memory_order_relaxed);
}

void pass_counts::fill(msg::loaded_version& out) const {
  out.passes_by_rows.clear();
  for (const auto& passes : passes_) out.passes_by_rows.push_back(passes.load());
  out.rows_forwarded = rows_.load();
}

inference::forward_fn counted(inference::forward_fn forward, std::shared_ptr<pass_counts> counts) {
  return [forward = std::move(forward), counts = std::move(counts)](
             const std::vector<float>& inputs, uint32_t rows) {
    counts->count(rows);
    return forward(inputs, rows);
  };
}

}  // namespace troupe::replica
