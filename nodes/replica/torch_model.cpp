#include "nodes/replica/torch_model.hpp"

#include <torch/script.h>
#include <torch/utils.h>

#include <memory>
#include <stdexcept>

namespace troupe::replica {
namespace {

inference::forward_output run(torch::jit::script::Module& module, const std::vector<float>& inputs,
                              uint32_t rows, uint32_t features, bool softmax) {
  torch::NoGradGuard no_grad;
  auto in = torch::from_blob(const_cast<float*>(inputs.data()),
                             {static_cast<int64_t>(rows), static_cast<int64_t>(features)},
                             torch::kFloat32);
  auto out = module.forward({in}).toTensor().to(torch::kFloat32).contiguous();
  if (out.dim() == 1) out = out.unsqueeze(1);
  if (out.dim() != 2 || out.size(0) != rows)
    throw std::runtime_error("the model answered a tensor of shape " + std::to_string(out.dim()) +
                             "-d for " + std::to_string(rows) + " rows; expected rows x outputs");
  inference::forward_output result;
  result.output_count = static_cast<uint32_t>(out.size(1));
  result.outputs.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  if (softmax) inference::softmax_rows(result.outputs, result.output_count);
  return result;
}

}  // namespace

void set_torch_threads(int threads) { torch::set_num_threads(std::max(1, threads)); }

inference::forward_fn load_torchscript(const std::string& path,
                                       const inference::model_signature& signature) {
  if (signature.input_features == 0)
    throw std::runtime_error("the registry does not say how many features the model takes");
  std::shared_ptr<torch::jit::script::Module> module;
  try {
    module = std::make_shared<torch::jit::script::Module>(torch::jit::load(path));
    module->eval();
  } catch (const c10::Error& e) {
    throw std::runtime_error("not a TorchScript file: " + e.msg());
  }
  const auto features = signature.input_features;
  const bool softmax = signature.outputs == inference::output_kind::logits;
  try {
    run(*module, std::vector<float>(features, 0.f), 1, features, softmax);
  } catch (const c10::Error& e) {
    throw std::runtime_error("the model does not take rows of " + std::to_string(features) +
                             " features: " + e.msg());
  }
  return [module, features, softmax](const std::vector<float>& inputs, uint32_t rows) {
    try {
      return run(*module, inputs, rows, features, softmax);
    } catch (const c10::Error& e) {
      throw std::runtime_error(e.msg());
    }
  };
}

}  // namespace troupe::replica
