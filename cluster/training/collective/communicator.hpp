// The collectives a data-parallel rank needs, behind one small interface: Gloo (CPU tensors;
// CUDA tensors too, through host copies, where libtorch bundles its own Gloo and c10d's
// ProcessGroupGloo carries them) and NCCL (CUDA tensors). Only training code includes
// this (it brings libtorch's tensor type).
//
// Every collective is bounded: one that a dead or stalled peer holds up fails with a
// collective_error after `timeout`, so the job can be stopped and recovered instead of
// hanging (Gloo's own default is 30 minutes). Every rank must call the same collectives in
// the same order; a communicator is used by one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <torch/types.h>

#include "cluster/training/collective/collective_error.hpp"
#include "cluster/training/collective/rendezvous.hpp"

namespace troupe::training {

// A collective in flight.
class collective_work {
 public:
  virtual ~collective_work();

  // Blocks until the collective is done; throws collective_error when it failed or timed out.
  virtual void wait() = 0;
};

class communicator {
 public:
  virtual ~communicator();

  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // Starts an in-place sum of `tensor` over every rank. The tensor must be contiguous and must
  // stay alive and untouched until wait() returns.
  virtual std::unique_ptr<collective_work> all_reduce_sum(at::Tensor& tensor) = 0;

  // Copies rank `root`'s `tensor` into every other rank's; returns once done.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;

  // Returns once every rank has called it.
  virtual void barrier() = 0;
};

struct communicator_options {
  int rank = 0;
  int world_size = 1;
  std::chrono::milliseconds join_timeout{60'000};  // every rank's rendezvous at start
  std::chrono::milliseconds timeout{5'000};        // each collective
};

struct gloo_options : communicator_options {
  std::string hostname = "127.0.0.1";  // the address this rank's peers reach it on
};

struct nccl_options : communicator_options {
  int device = 0;  // the CUDA device of this rank's tensors
};

// Throws collective_error (invalid_request) when the rank is outside the world, or a timeout
// is not positive.
void check(const communicator_options& options);

// A library's exception in words, without the C++ backtrace c10 errors append.
std::string describe(const std::exception& error);

// Both join the group through `rendezvous` (Gloo keeps it for its lifetime) and throw
// collective_error when they cannot: timeout when a peer does not join within join_timeout,
// unavailable when the backend or device cannot run, invalid_request for bad options.
std::unique_ptr<communicator> make_gloo_communicator(std::shared_ptr<rendezvous> rendezvous,
                                                     const gloo_options& options);
std::unique_ptr<communicator> make_nccl_communicator(std::shared_ptr<rendezvous> rendezvous,
                                                     const nccl_options& options);

}  // namespace troupe::training
