// Which rows each rank trains on in an epoch, with PyTorch's DistributedSampler semantics: the
// row order is shuffled from seed + epoch (the same on every rank), padded by repeating its
// first rows up to a multiple of the world size, and rank r takes every world_size-th row from
// position r. Every rank gets ceil(rows / world_size) rows, so all ranks run the same number
// of steps, and the shards are disjoint except for the padding.
#pragma once

#include <cstdint>
#include <vector>

namespace troupe::training {

std::vector<int64_t> shard_rows(int64_t rows, int64_t rank, int64_t world_size, uint64_t seed,
                                int64_t epoch);

}  // namespace troupe::training
