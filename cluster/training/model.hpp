// The network a trainer optimises, whichever way it was described: an `mlp` built from the
// model spec as torch::nn modules, or a `torchscript` module a user saved from Python. Torch
// code: include only from the training .cpp files and their tests.
#pragma once

#include <memory>
#include <variant>
#include <vector>

#include <torch/script.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include "cluster/training/train_spec.hpp"
#include "messages/error.hpp"

namespace troupe::training {

class model {
 public:
  virtual ~model();

  virtual at::Tensor forward(const at::Tensor& input) = 0;
  virtual std::vector<at::Tensor> parameters() = 0;
  // Parameters and buffers: what every rank must hold equal.
  virtual std::vector<at::Tensor> state() = 0;
  virtual void train(bool on) = 0;
  virtual void to(const torch::Device& device) = 0;
  virtual void save(torch::serialize::OutputArchive& archive) = 0;
  virtual void load(torch::serialize::InputArchive& archive) = 0;
  // The network alone, for inference: a TorchScript module on the CPU in eval mode.
  virtual torch::jit::Module scripted() = 0;
};

// Builds the model of `spec` for `inputs` features and `outputs` outputs, initialised from
// torch's generator (seed it first). invalid_request names the field that does not fit.
std::variant<std::unique_ptr<model>, msg::error> make_model(const model_spec& spec, int64_t inputs,
                                                            int64_t outputs);

}  // namespace troupe::training
