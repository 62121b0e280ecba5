#include "nodes/rank/rank_sync.hpp"

#include "cluster/training/collective/communicator.hpp"
#include "cluster/training/collective/gradient_reducer.hpp"
#include "cluster/training/gradient_sync.hpp"

namespace troupe::rank {
namespace {

class group_sync final : public training::gradient_sync {
 public:
  group_sync(std::unique_ptr<training::communicator> communicator, int64_t bucket_bytes)
      : communicator_(std::move(communicator)), bucket_bytes_(bucket_bytes) {}

  void broadcast_parameters(const std::vector<at::Tensor>& tensors) override {
    if (!reducer_)
      reducer_ =
          std::make_unique<training::gradient_reducer>(tensors, *communicator_, bucket_bytes_);
    reducer_->broadcast_parameters(tensors);
  }
  void before_backward() override { reducer_->before_backward(); }
  void after_backward() override { reducer_->after_backward(); }

 private:
  std::unique_ptr<training::communicator> communicator_;
  int64_t bucket_bytes_;
  std::unique_ptr<training::gradient_reducer> reducer_;  // destroyed before the communicator
};

}  // namespace

std::shared_ptr<training::gradient_sync> make_rank_sync(
    std::shared_ptr<training::rendezvous> rendezvous, const rank_sync_options& options) {
  if (options.world_size == 1) return std::make_shared<training::single_rank_sync>();
  training::gloo_options gloo;
  gloo.rank = options.rank;
  gloo.world_size = options.world_size;
  gloo.hostname = options.hostname;
  return std::make_shared<group_sync>(training::make_gloo_communicator(std::move(rendezvous), gloo),
                                      options.bucket_bytes);
}

}  // namespace troupe::rank
