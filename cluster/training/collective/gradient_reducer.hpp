// Averages a model's gradients over the ranks of a job, overlapping the all-reduce with the
// rest of backward, as PyTorch's DDP reducer does.
//
// Parameters are assigned to buckets in reverse order of registration (gradients become ready
// roughly in that order), each bucket one flat tensor of one dtype and device, closed once it
// holds `bucket_bytes`. Each parameter's .grad is a view of its part of the bucket, set again
// before each backward, so autograd accumulates into the bucket (a gradient replaced during
// backward is copied in). A hook after each parameter's gradient accumulator marks it ready;
// once every gradient of a bucket is in, the bucket's all-reduce starts while backward goes on.
// Buckets start strictly in order (bucket i+1 waits for bucket i), so every rank issues the same
// collectives in the same order whatever order its gradients came in. after_backward() starts the
// buckets still waiting (a parameter without a gradient in this backward gives its current
// gradient, or zeros), waits for them all, and writes each mean back into its parameter's .grad (in
// place, for the views).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/types.h>

#include "cluster/training/collective/communicator.hpp"
#include "cluster/training/gradient_sync.hpp"

namespace torch::autograd {
struct Node;
}

namespace troupe::training {

struct gradient_ready_hook;

class gradient_reducer final : public gradient_sync {
 public:
  static constexpr int64_t default_bucket_bytes = 25 << 20;

  // `communicator` must outlive the reducer. Parameters that do not require a gradient are left
  // out; throws std::invalid_argument when bucket_bytes is not positive.
  gradient_reducer(std::vector<at::Tensor> parameters, communicator& communicator,
                   int64_t bucket_bytes = default_bucket_bytes);
  ~gradient_reducer() override;  // removes its hooks

  gradient_reducer(const gradient_reducer&) = delete;
  gradient_reducer& operator=(const gradient_reducer&) = delete;

  void broadcast_parameters(const std::vector<at::Tensor>& tensors) override;
  void before_backward() override;
  void after_backward() override;

  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  friend struct gradient_ready_hook;

  struct gradient_slot {
    std::size_t parameter;
    int64_t offset;
  };
  struct bucket_state {
    at::Tensor flat;
    std::vector<gradient_slot> slots;
    std::size_t waiting = 0;  // gradients not in yet during this backward
    std::unique_ptr<collective_work> work;
  };
  struct bucket_place {
    std::size_t bucket;
    std::size_t slot;
  };

  void gradient_ready(std::size_t parameter);  // from its hook, during backward
  void mark_ready(std::size_t parameter);
  void launch_ready_buckets();
  at::Tensor bucket_view(const bucket_state& bucket, const gradient_slot& slot) const;
  // Whether the parameter's .grad is its part of the bucket.
  bool in_bucket(const bucket_state& bucket, const gradient_slot& slot) const;
  void copy_in(const bucket_state& bucket, const gradient_slot& slot) const;

  std::vector<at::Tensor> parameters_;
  communicator& communicator_;
  std::vector<bucket_state> buckets_;
  std::vector<bucket_place> places_;                                  // by parameter
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // hold our hooks
  std::vector<uintptr_t> hook_keys_;

  std::mutex mutex_;  // hooks may run on autograd's device threads
  bool armed_ = false;
  std::vector<bool> ready_;  // by parameter
  std::size_t next_bucket_ = 0;
};

}  // namespace troupe::training
