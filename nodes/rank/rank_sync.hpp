// The gradient exchange of a rank process: nothing to exchange for a rank alone; otherwise a
// Gloo group (CPU tensors, and CUDA tensors through host copies) joined through `rendezvous`,
// and the bucketed reducer, made for the trainer's parameters when it first broadcasts them
// (the trainer makes its model only once it is given its gradient_sync).
// No torch in this header: the rank's main stays cheap to compile.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cluster/training/collective/rendezvous.hpp"

namespace troupe::training {
class gradient_sync;
}

namespace troupe::rank {

struct rank_sync_options {
  int rank = 0;
  int world_size = 1;
  std::string hostname;  // the address this rank's peers reach it on
  int64_t bucket_bytes = 0;
};

// Joins the group (blocking until every rank did); throws collective_error when it cannot.
std::shared_ptr<training::gradient_sync> make_rank_sync(
    std::shared_ptr<training::rendezvous> rendezvous, const rank_sync_options& options);

}  // namespace troupe::rank
