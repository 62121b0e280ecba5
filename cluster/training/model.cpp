#include "cluster/training/model.hpp"

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

namespace troupe::training {

model::~model() = default;

namespace {

msg::error invalid(std::string message) {
  return {msg::error_code::invalid_request, std::move(message)};
}

// Checkpoints hold a model's tensors by name; loading checks each shape, so that a checkpoint
// of another architecture is refused instead of silently resizing the model.
void save_named(torch::serialize::OutputArchive& archive, const std::string& name,
                const at::Tensor& tensor, bool is_buffer) {
  archive.write(name, tensor, is_buffer);
}

void load_named(torch::serialize::InputArchive& archive, const std::string& name,
                const at::Tensor& target, bool is_buffer) {
  at::Tensor saved;
  archive.read(name, saved, is_buffer);
  TORCH_CHECK(saved.sizes() == target.sizes(), name, " is ", saved.sizes(),
              " in the checkpoint but ", target.sizes(), " in the model");
  torch::NoGradGuard no_grad;
  target.copy_(saved);
}

enum class activation_kind { relu, gelu, tanh, sigmoid };

at::Tensor activate(activation_kind kind, const at::Tensor& x) {
  switch (kind) {
    case activation_kind::relu: return torch::relu(x);
    case activation_kind::gelu: return torch::gelu(x);
    case activation_kind::tanh: return torch::tanh(x);
    case activation_kind::sigmoid: return torch::sigmoid(x);
  }
  return x;
}

const char* script_name(activation_kind kind) {
  switch (kind) {
    case activation_kind::relu: return "relu";
    case activation_kind::gelu: return "gelu";
    case activation_kind::tanh: return "tanh";
    case activation_kind::sigmoid: return "sigmoid";
  }
  return "relu";
}

// Linear layers with the activation (and dropout, in training) between them.
class mlp final : public model {
 public:
  mlp(const std::vector<int64_t>& layers, activation_kind activation, double dropout)
      : activation_(activation), dropout_(dropout) {
    for (size_t i = 0; i + 1 < layers.size(); ++i)
      linears_.push_back(net_.register_module("linear" + std::to_string(i),
                                              torch::nn::Linear(layers[i], layers[i + 1])));
  }

  at::Tensor forward(const at::Tensor& input) override {
    at::Tensor x = input;
    for (size_t i = 0; i < linears_.size(); ++i) {
      x = linears_[i]->forward(x);
      if (i + 1 == linears_.size()) break;
      x = activate(activation_, x);
      if (dropout_ > 0.0) x = torch::dropout(x, dropout_, net_.is_training());
    }
    return x;
  }

  std::vector<at::Tensor> parameters() override { return net_.parameters(); }
  std::vector<at::Tensor> state() override { return net_.parameters(); }
  void train(bool on) override { net_.train(on); }
  void to(const torch::Device& device) override { net_.to(device); }
  void save(torch::serialize::OutputArchive& archive) override {
    for (const auto& p : net_.named_parameters()) save_named(archive, p.key(), p.value(), false);
  }
  void load(torch::serialize::InputArchive& archive) override {
    for (const auto& p : net_.named_parameters()) load_named(archive, p.key(), p.value(), false);
  }

  torch::jit::Module scripted() override {
    torch::jit::Module module("TroupeMLP");
    std::string source = "def forward(self, x):\n";
    for (size_t i = 0; i < linears_.size(); ++i) {
      const auto n = std::to_string(i);
      module.register_parameter("w" + n, linears_[i]->weight.detach().cpu().clone(), false);
      module.register_parameter("b" + n, linears_[i]->bias.detach().cpu().clone(), false);
      source += "    x = torch.addmm(self.b" + n + ", x, self.w" + n + ".t())\n";
      if (i + 1 < linears_.size())
        source += std::string("    x = torch.") + script_name(activation_) + "(x)\n";
    }
    source += "    return x\n";
    module.define(source);
    module.eval();
    return module;
  }

 private:
  torch::nn::Module net_;
  std::vector<torch::nn::Linear> linears_;
  activation_kind activation_;
  double dropout_;
};

// A module the user scripted in Python; the parameters that require grad are trained where
// they are (a parameter the user froze stays as it is).
class torchscript_model final : public model {
 public:
  explicit torchscript_model(torch::jit::Module module) : module_(std::move(module)) {}

  at::Tensor forward(const at::Tensor& input) override {
    return module_.forward({input}).toTensor();
  }

  std::vector<at::Tensor> parameters() override {
    std::vector<at::Tensor> out;
    for (const auto& p : module_.parameters()) {
      if (p.requires_grad()) out.push_back(p);
    }
    return out;
  }

  std::vector<at::Tensor> state() override {
    std::vector<at::Tensor> out;
    for (const auto& p : module_.parameters()) out.push_back(p);
    for (const auto& b : module_.buffers()) out.push_back(b);
    return out;
  }

  void train(bool on) override { module_.train(on); }
  void to(const torch::Device& device) override { module_.to(device); }

  void save(torch::serialize::OutputArchive& archive) override {
    for (const auto& p : module_.named_parameters()) save_named(archive, p.name, p.value, false);
    for (const auto& b : module_.named_buffers()) save_named(archive, b.name, b.value, true);
  }

  void load(torch::serialize::InputArchive& archive) override {
    for (const auto& p : module_.named_parameters()) load_named(archive, p.name, p.value, false);
    for (const auto& b : module_.named_buffers()) load_named(archive, b.name, b.value, true);
  }

  torch::jit::Module scripted() override {
    auto copy = module_.deepcopy();
    copy.to(torch::kCPU);
    copy.eval();
    return copy;
  }

 private:
  torch::jit::Module module_;
};

}  // namespace

std::variant<std::unique_ptr<model>, msg::error> make_model(const model_spec& spec, int64_t inputs,
                                                            int64_t outputs) {
  if (spec.type == "torchscript") {
    try {
      auto module = torch::jit::load(spec.path);
      module.train(true);
      auto loaded = std::make_unique<torchscript_model>(std::move(module));
      if (loaded->parameters().empty())
        return invalid("model.path: the module in " + spec.path + " has no trainable parameters");
      return loaded;
    } catch (const c10::Error& e) {
      return invalid("model.path: cannot load a TorchScript module from " + spec.path + ": " +
                     e.what_without_backtrace());
    }
  }
  if (spec.type != "mlp") return invalid("model.type: expected mlp or torchscript");
  const auto& layers = spec.layers;
  if (layers.size() < 2) return invalid("model.layers: expected at least input and output sizes");
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i] <= 0)
      return invalid("model.layers[" + std::to_string(i) + "]: expected a size > 0");
  }
  if (layers.front() != inputs)
    return invalid("model.layers[0]: " + std::to_string(layers.front()) +
                   " inputs, but the data has " + std::to_string(inputs) + " features");
  if (layers.back() != outputs)
    return invalid("model.layers[" + std::to_string(layers.size() - 1) +
                   "]: " + std::to_string(layers.back()) + " outputs, but the task needs " +
                   std::to_string(outputs));
  const std::pair<const char*, activation_kind> activations[] = {
      {"relu", activation_kind::relu},
      {"gelu", activation_kind::gelu},
      {"tanh", activation_kind::tanh},
      {"sigmoid", activation_kind::sigmoid}};
  for (const auto& [name, kind] : activations) {
    if (spec.activation != name) continue;
    if (!(spec.dropout >= 0.0 && spec.dropout < 1.0))
      return invalid("model.dropout: expected a value in [0, 1)");
    return std::make_unique<mlp>(layers, kind, spec.dropout);
  }
  return invalid("model.activation: expected relu, gelu, tanh or sigmoid");
}

}  // namespace troupe::training
