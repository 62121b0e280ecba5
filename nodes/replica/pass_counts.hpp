// What a replica reports of each version it serves besides its problem (ReplicaReport's
// LoadedVersion): its forward passes by their rows, and the rows of them all, since it loaded
// the version. Thread-safe: the prediction socket's thread counts while the poll thread reports.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "cluster/inference/dynamic_batcher.hpp"
#include "messages/inference.hpp"

namespace troupe::replica {

class pass_counts {
 public:
  void count(uint32_t rows);
  // Sets `out`'s passes_by_rows and rows_forwarded.
  void fill(msg::loaded_version& out) const;

 private:
  std::array<std::atomic<uint64_t>, msg::pass_row_buckets> passes_{};
  std::atomic<uint64_t> rows_{0};
};

// `forward`, counting each pass it runs in `counts`.
inference::forward_fn counted(inference::forward_fn forward, std::shared_ptr<pass_counts> counts);

}  // namespace troupe::replica
