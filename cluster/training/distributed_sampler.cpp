#include "cluster/training/distributed_sampler.hpp"

#include <algorithm>
#include <numeric>
#include <random>

namespace troupe::training {

std::vector<int64_t> shard_rows(int64_t rows, int64_t rank, int64_t world_size, uint64_t seed,
                                int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 random(seed + static_cast<uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), random);
  const int64_t per_rank = (rows + world_size - 1) / world_size;
  std::vector<int64_t> shard;
  shard.reserve(static_cast<size_t>(per_rank));
  for (int64_t i = rank; i < per_rank * world_size; i += world_size)
    shard.push_back(order[static_cast<size_t>(i % rows)]);
  return shard;
}

}  // namespace troupe::training
