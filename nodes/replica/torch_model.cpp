#include "nodes/replica/torch_model.hpp"

#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/utils.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace troupe::replica {
namespace {

// One loaded module and its device. Called by one batcher's worker only, one pass at a time.
class torch_runner {
 public:
  torch_runner(torch::jit::script::Module module, torch::Device device, uint32_t features,
               bool softmax)
      : module_(std::move(module)), device_(device), features_(features), softmax_(softmax) {}

  inference::forward_output run(const std::vector<float>& inputs, uint32_t rows) {
    torch::NoGradGuard no_grad;
    auto out = module_.forward({to_device(inputs, rows)}).toTensor();
    out = out.to(torch::kCPU, torch::kFloat32).contiguous();  // from a GPU: the one copy back
    if (out.dim() == 1) out = out.unsqueeze(1);
    if (out.dim() != 2 || out.size(0) != rows)
      throw std::runtime_error("the model answered a tensor of shape " + std::to_string(out.dim()) +
                               "-d for " + std::to_string(rows) + " rows; expected rows x outputs");
    inference::forward_output result;
    result.output_count = static_cast<uint32_t>(out.size(1));
    result.outputs.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    if (softmax_) inference::softmax_rows(result.outputs, result.output_count);
    return result;
  }

 private:
  // The rows as the module's input: on the CPU, the caller's buffer itself; on a GPU, one
  // non-blocking copy from the pinned staging buffer. Reusing that buffer is safe: the previous
  // pass's copy back to the CPU waited for everything queued before it, its input copy included.
  torch::Tensor to_device(const std::vector<float>& inputs, uint32_t rows) {
    const auto shape = std::vector<int64_t>{static_cast<int64_t>(rows), features_};
    if (device_.is_cpu())
      return torch::from_blob(const_cast<float*>(inputs.data()), shape, torch::kFloat32);
    const auto count = static_cast<int64_t>(inputs.size());
    if (!staging_.defined() || staging_.numel() < count)
      staging_ =
          torch::empty({count}, torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(true));
    std::memcpy(staging_.data_ptr<float>(), inputs.data(), inputs.size() * sizeof(float));
    return staging_.narrow(0, 0, count).view(shape).to(device_, /*non_blocking=*/true);
  }

  torch::jit::script::Module module_;
  const torch::Device device_;
  const int64_t features_;
  const bool softmax_;
  torch::Tensor staging_;  // cuda only: pinned host memory, grown to the largest pass
};

torch::Device device_of(inference::serve_device device) {
  if (device == inference::serve_device::cpu) return torch::kCPU;
  if (!torch::cuda::is_available())
    throw std::runtime_error("device: cuda, but this replica sees no GPU");
  return {torch::kCUDA, 0};  // the task's own GPU: the runner set CUDA_VISIBLE_DEVICES to it
}

}  // namespace

void set_torch_threads(int threads) { torch::set_num_threads(std::max(1, threads)); }

inference::forward_fn load_torchscript(const std::string& path,
                                       const inference::model_signature& signature,
                                       inference::serve_device device) {
  if (signature.input_features == 0)
    throw std::runtime_error("the registry does not say how many features the model takes");
  const auto on = device_of(device);
  torch::jit::script::Module module;
  try {
    module = torch::jit::load(path, on);
    module.eval();
  } catch (const c10::Error& e) {
    throw std::runtime_error("not a TorchScript file: " + e.msg());
  }
  const auto features = signature.input_features;
  auto runner = std::make_shared<torch_runner>(std::move(module), on, features,
                                               signature.outputs == inference::output_kind::logits);
  try {
    runner->run(std::vector<float>(features, 0.f), 1);
  } catch (const c10::Error& e) {
    throw std::runtime_error("the model does not take rows of " + std::to_string(features) +
                             " features: " + e.msg());
  }
  return [runner](const std::vector<float>& inputs, uint32_t rows) {
    try {
      return runner->run(inputs, rows);
    } catch (const c10::Error& e) {
      throw std::runtime_error(e.msg());
    }
  };
}

}  // namespace troupe::replica
