// The Gloo communicator where libtorch bundles its own Gloo (see gloo_communicator.cpp for the
// other case): c10d's ProcessGroupGloo, joined through our rendezvous instead of an open
// TCPStore, with every collective bounded by our timeout instead of Gloo's 30 minutes.
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "cluster/training/collective/gloo_group.hpp"

namespace troupe::training {
namespace {

// c10d's view of our rendezvous: what ProcessGroupGloo needs to exchange its ranks' addresses
// (set, get, wait). The rest of c10d's store is never called by it and is refused.
class rendezvous_store final : public c10d::Store {
 public:
  rendezvous_store(std::shared_ptr<rendezvous> rendezvous, std::chrono::milliseconds timeout)
      : c10d::Store(timeout), rendezvous_(std::move(rendezvous)) {}

  // Pure virtual from libtorch 2.x on, absent in 1.13: hence no `override`.
  c10::intrusive_ptr<c10d::Store> clone() {
    return c10::make_intrusive<rendezvous_store>(rendezvous_, timeout_);
  }

  void set(const std::string& key, const std::vector<uint8_t>& value) override {
    rendezvous_->set(key, value);
  }
  std::vector<uint8_t> get(const std::string& key) override {
    return rendezvous_->get(key, timeout_);
  }
  // Gloo passes its collective timeout here while it connects; joining is bounded by the join
  // timeout instead, since ranks may start seconds apart.
  void wait(const std::vector<std::string>& keys) override {
    for (const auto& key : keys) rendezvous_->get(key, timeout_);
  }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds&) override {
    wait(keys);
  }

  int64_t add(const std::string&, int64_t) override { refuse("add"); }
  bool deleteKey(const std::string&) override { refuse("deleteKey"); }
  bool check(const std::vector<std::string>&) override { refuse("check"); }
  int64_t getNumKeys() override { refuse("getNumKeys"); }

 private:
  [[noreturn]] static void refuse(const char* call) {
    throw collective_error(msg::error_code::internal,
                           std::string("rendezvous: c10d called Store::") + call +
                               ", which the rendezvous does not offer");
  }

  std::shared_ptr<rendezvous> rendezvous_;
};

using gloo_work_ptr = decltype(std::declval<c10d::ProcessGroupGloo&>().allreduce(
    std::declval<std::vector<at::Tensor>&>()));

// Gloo aborts an operation that exceeds the group's timeout, or whose peer closed its
// connections; either way the work's wait() throws and the group is unusable after.
void finish(const gloo_work_ptr& work, const std::string& what) {
  try {
    work->wait();
  } catch (const std::exception& error) {
    throw collective_error(msg::error_code::unavailable, what + " failed: " + describe(error));
  }
}

class gloo_work final : public collective_work {
 public:
  gloo_work(gloo_work_ptr work, std::string what)
      : work_(std::move(work)), what_(std::move(what)) {}

  void wait() override { finish(work_, what_); }

 private:
  gloo_work_ptr work_;
  std::string what_;
};

class gloo_communicator final : public communicator {
 public:
  gloo_communicator(std::shared_ptr<rendezvous> rendezvous, const gloo_options& options)
      : options_(options) {
    auto group_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
    group_options->devices.push_back(
        c10d::ProcessGroupGloo::createDeviceForHostname(options.hostname));
    group_options->threads = 1;  // our buckets go out one after the other anyway
    auto store = c10::make_intrusive<rendezvous_store>(std::move(rendezvous), options.join_timeout);
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size,
                                                         group_options);
  }

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }

  std::unique_ptr<collective_work> all_reduce_sum(at::Tensor& tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    return std::make_unique<gloo_work>(group_->allreduce(tensors),
                                       describe_call("all-reduce", tensor.numel()));
  }

  void broadcast(at::Tensor& tensor, int root) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::BroadcastOptions broadcast_options;
    broadcast_options.rootRank = root;
    finish(group_->broadcast(tensors, broadcast_options),
           describe_call("broadcast from rank " + std::to_string(root), tensor.numel()));
  }

  void barrier() override { finish(group_->barrier(), describe_call("barrier", 0)); }

 private:
  std::string describe_call(const std::string& call, int64_t elements) const {
    return describe_gloo_call(call, elements, options_);
  }

  gloo_options options_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};

}  // namespace

std::unique_ptr<communicator> join_gloo_group(std::shared_ptr<rendezvous> rendezvous,
                                              const gloo_options& options) {
  return std::make_unique<gloo_communicator>(std::move(rendezvous), options);
}

}  // namespace troupe::training
