#include "cluster/training/collective/gradient_reducer.hpp"

#include <stdexcept>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/autograd/variable.h>

namespace troupe::training {

// Runs after a parameter's gradient accumulator, once its .grad holds this backward's gradient.
struct gradient_ready_hook final : torch::autograd::FunctionPostHook {
  gradient_ready_hook(gradient_reducer& reducer, std::size_t parameter)
      : reducer_(reducer), parameter_(parameter) {}

  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    reducer_.gradient_ready(parameter_);
    return outputs;
  }

  gradient_reducer& reducer_;
  std::size_t parameter_;
};

namespace {

std::size_t bytes_of(const at::Tensor& tensor) {
  return static_cast<std::size_t>(tensor.numel()) * tensor.element_size();
}

// Groups tensors into runs of one dtype and device, in the order given, each closed once it
// holds `limit` bytes.
std::vector<std::vector<std::size_t>> group(const std::vector<at::Tensor>& tensors,
                                            const std::vector<std::size_t>& order,
                                            std::size_t limit) {
  std::vector<std::vector<std::size_t>> groups;
  std::size_t held = 0;
  for (std::size_t index : order) {
    const at::Tensor& tensor = tensors[index];
    const bool fits = !groups.empty() && held < limit &&
                      tensors[groups.back().front()].scalar_type() == tensor.scalar_type() &&
                      tensors[groups.back().front()].device() == tensor.device();
    if (!fits) {
      groups.emplace_back();
      held = 0;
    }
    groups.back().push_back(index);
    held += bytes_of(tensor);
  }
  return groups;
}

at::Tensor flat_for(const std::vector<at::Tensor>& tensors, const std::vector<std::size_t>& group) {
  int64_t elements = 0;
  for (std::size_t index : group) elements += tensors[index].numel();
  return at::empty({elements}, tensors[group.front()].options().requires_grad(false));
}

}  // namespace

gradient_reducer::gradient_reducer(std::vector<at::Tensor> parameters, communicator& communicator,
                                   int64_t bucket_bytes)
    : communicator_(communicator) {
  if (bucket_bytes <= 0) throw std::invalid_argument("bucket_bytes must be positive");
  for (auto& parameter : parameters)
    if (parameter.requires_grad()) parameters_.push_back(std::move(parameter));

  std::vector<std::size_t> reverse;
  for (std::size_t i = parameters_.size(); i-- > 0;) reverse.push_back(i);
  places_.resize(parameters_.size());
  for (const auto& members : group(parameters_, reverse, static_cast<std::size_t>(bucket_bytes))) {
    bucket_state next{flat_for(parameters_, members), {}, 0, nullptr};
    int64_t offset = 0;
    for (std::size_t index : members) {
      places_[index] = {buckets_.size(), next.slots.size()};
      next.slots.push_back({index, offset});
      offset += parameters_[index].numel();
    }
    buckets_.push_back(std::move(next));
  }

  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    // The parameter holds its accumulator weakly: we keep it, or it and our hook would go.
    auto accumulator = torch::autograd::impl::grad_accumulator(parameters_[i]);
    hook_keys_.push_back(
        accumulator->add_post_hook(std::make_unique<gradient_ready_hook>(*this, i)));
    accumulators_.push_back(std::move(accumulator));
  }
  ready_.assign(parameters_.size(), false);
}

gradient_reducer::~gradient_reducer() {
  for (std::size_t i = 0; i < accumulators_.size(); ++i)
    accumulators_[i]->del_post_hook(hook_keys_[i]);
}

void gradient_reducer::broadcast_parameters(const std::vector<at::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::vector<std::size_t> order(tensors.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (const auto& members :
       group(tensors, order, static_cast<std::size_t>(default_bucket_bytes))) {
    at::Tensor flat = flat_for(tensors, members);
    int64_t offset = 0;
    for (std::size_t index : members) {
      const auto elements = tensors[index].numel();
      flat.narrow(0, offset, elements).copy_(tensors[index].reshape({-1}));
      offset += elements;
    }
    communicator_.broadcast(flat, 0);
    offset = 0;
    for (std::size_t index : members) {
      at::Tensor tensor = tensors[index];
      const auto elements = tensor.numel();
      tensor.copy_(flat.narrow(0, offset, elements).view_as(tensor));
      offset += elements;
    }
  }
}

at::Tensor gradient_reducer::bucket_view(const bucket_state& bucket,
                                         const gradient_slot& slot) const {
  // The bucket's storage, but not an autograd view of it: libtorch's Optimizer::zero_grad
  // detaches gradients in place, which it refuses for views.
  const at::Tensor& parameter = parameters_[slot.parameter];
  return at::empty({0}, bucket.flat.options())
      .set_(bucket.flat.storage(), bucket.flat.storage_offset() + slot.offset, parameter.sizes(),
            at::detail::defaultStrides(parameter.sizes()));
}

bool gradient_reducer::in_bucket(const bucket_state& bucket, const gradient_slot& slot) const {
  // By address: asked three times a step for every parameter, so no tensor is made for it.
  const at::Tensor& grad = parameters_[slot.parameter].grad();
  const auto* part =
      static_cast<const char*>(bucket.flat.data_ptr()) + slot.offset * bucket.flat.element_size();
  return grad.defined() && grad.data_ptr() == part;
}

void gradient_reducer::before_backward() {
  std::lock_guard lock(mutex_);
  torch::NoGradGuard no_grad;
  for (auto& bucket : buckets_) {
    if (bucket.work) throw std::logic_error("before_backward called twice without after_backward");
    bucket.waiting = bucket.slots.size();
    // Each gradient lives in its bucket, so that autograd accumulates straight into it (DDP's
    // gradient_as_bucket_view): no copy in before the all-reduce, none out after. An optimizer
    // that set it to none, or a caller that replaced it, gets the view again, holding the same.
    for (const gradient_slot& slot : bucket.slots) {
      if (in_bucket(bucket, slot)) continue;
      at::Tensor& parameter = parameters_[slot.parameter];
      at::Tensor view = bucket_view(bucket, slot);
      if (parameter.grad().defined())
        view.copy_(parameter.grad());
      else
        view.zero_();
      parameter.mutable_grad() = view;
    }
  }
  ready_.assign(parameters_.size(), false);
  next_bucket_ = 0;
  armed_ = true;
}

void gradient_reducer::gradient_ready(std::size_t parameter) {
  std::lock_guard lock(mutex_);
  if (!armed_) return;  // a backward outside before_backward/after_backward is not ours
  if (ready_[parameter])
    throw std::logic_error("a gradient came twice in one backward: call before_backward first");
  mark_ready(parameter);
  launch_ready_buckets();
}

void gradient_reducer::mark_ready(std::size_t parameter) {
  const bucket_place& where = places_[parameter];
  bucket_state& bucket = buckets_[where.bucket];
  copy_in(bucket, bucket.slots[where.slot]);
  ready_[parameter] = true;
  --bucket.waiting;
}

void gradient_reducer::launch_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].waiting == 0) {
    bucket_state& bucket = buckets_[next_bucket_++];
    bucket.work = communicator_.all_reduce_sum(bucket.flat);
  }
}

void gradient_reducer::copy_in(const bucket_state& bucket, const gradient_slot& slot) const {
  if (in_bucket(bucket, slot)) return;
  torch::NoGradGuard no_grad;
  const at::Tensor& parameter = parameters_[slot.parameter];
  at::Tensor part = bucket.flat.narrow(0, slot.offset, parameter.numel());
  const at::Tensor& grad = parameter.grad();
  if (grad.defined())
    part.copy_(grad.reshape({-1}));
  else
    part.zero_();
}

void gradient_reducer::after_backward() {
  std::lock_guard lock(mutex_);
  if (!armed_) throw std::logic_error("after_backward called without before_backward");
  armed_ = false;
  for (std::size_t i = 0; i < parameters_.size(); ++i)
    if (!ready_[i]) mark_ready(i);
  launch_ready_buckets();

  // Every bucket's work is taken first: after a failed collective none is left behind.
  std::vector<std::unique_ptr<collective_work>> works;
  for (auto& bucket : buckets_) works.push_back(std::move(bucket.work));
  torch::NoGradGuard no_grad;
  const double ranks = communicator_.world_size();
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    works[b]->wait();
    bucket_state& bucket = buckets_[b];
    bucket.flat.div_(ranks);
    for (const gradient_slot& slot : bucket.slots) {
      if (in_bucket(bucket, slot)) continue;
      at::Tensor& parameter = parameters_[slot.parameter];
      at::Tensor mean = bucket.flat.narrow(0, slot.offset, parameter.numel()).view_as(parameter);
      if (parameter.grad().defined())
        parameter.mutable_grad().copy_(mean);
      else
        parameter.mutable_grad() = mean.clone();
    }
  }
}

}  // namespace troupe::training
