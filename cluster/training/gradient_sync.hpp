// How a training loop keeps its ranks' gradients equal: the loop calls these around each
// backward pass and never needs to know how many ranks there are or how they talk.
#pragma once

#include <vector>

#include <torch/types.h>

namespace troupe::training {

class gradient_sync {
 public:
  virtual ~gradient_sync();

  // Once before the first step: every rank starts from rank 0's parameters and buffers.
  virtual void broadcast_parameters(const std::vector<at::Tensor>& tensors) = 0;

  // Before loss.backward(): arms what runs as gradients become ready during backward.
  virtual void before_backward() = 0;

  // After loss.backward(), before optimizer.step(): every gradient holds the mean over ranks.
  virtual void after_backward() = 0;
};

// One rank alone: gradients are already the mean.
class single_rank_sync final : public gradient_sync {
 public:
  void broadcast_parameters(const std::vector<at::Tensor>&) override {}
  void before_backward() override {}
  void after_backward() override {}
};

}  // namespace troupe::training
