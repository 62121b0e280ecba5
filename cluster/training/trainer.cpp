#include "cluster/training/trainer.hpp"

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "cluster/host/atomic_file.hpp"
#include "cluster/training/checkpoint.hpp"
#include "cluster/training/distributed_sampler.hpp"
#include "cluster/training/early_stopping.hpp"
#include "cluster/training/gradient_sync.hpp"
#include "cluster/training/lr_schedule.hpp"
#include "cluster/training/model.hpp"

namespace troupe::training {
namespace {

namespace F = torch::nn::functional;
using clock_type = std::chrono::steady_clock;

msg::error invalid(std::string message) {
  return {msg::error_code::invalid_request, std::move(message)};
}

at::Tensor to_tensor(const std::vector<float>& values, at::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat).clone();
}

// bf16 autocast around a forward pass on CUDA (the API moved in torch 2.4).
class autocast_scope {
 public:
  explicit autocast_scope(bool on) : on_(on) {
    if (on_) enable(true);
  }
  ~autocast_scope() {
    if (!on_) return;
    enable(false);
    at::autocast::clear_cache();
  }
  autocast_scope(const autocast_scope&) = delete;
  autocast_scope& operator=(const autocast_scope&) = delete;

 private:
  static void enable(bool enabled) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(enabled);
#endif
  }
  bool on_;
};

// Scales the gradients so that their global L2 norm is at most `max_norm`, as
// torch.nn.utils.clip_grad_norm_ does, without reading the norm off the device.
void clip_gradients(const std::vector<at::Tensor>& parameters, double max_norm) {
  std::vector<at::Tensor> norms;
  for (const auto& p : parameters) {
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  }
  if (norms.empty()) return;
  const auto scale = torch::clamp_max(max_norm / (torch::stack(norms).norm(2) + 1e-6), 1.0);
  for (const auto& p : parameters) {
    if (p.grad().defined()) p.grad().mul_(scale);
  }
}

std::variant<std::unique_ptr<torch::optim::Optimizer>, msg::error> make_optimizer(
    const optimizer_spec& spec, const std::vector<at::Tensor>& parameters) {
  if (!(spec.lr > 0.0)) return invalid("optimizer.lr: expected a value > 0");
  if (spec.name == "sgd")
    return std::make_unique<torch::optim::SGD>(parameters, torch::optim::SGDOptions(spec.lr)
                                                               .momentum(spec.momentum)
                                                               .nesterov(spec.nesterov)
                                                               .weight_decay(spec.weight_decay));
  if (spec.name == "adam")
    return std::make_unique<torch::optim::Adam>(parameters, torch::optim::AdamOptions(spec.lr)
                                                                .betas({spec.beta1, spec.beta2})
                                                                .eps(spec.eps)
                                                                .weight_decay(spec.weight_decay));
  if (spec.name == "adamw")
    return std::make_unique<torch::optim::AdamW>(parameters, torch::optim::AdamWOptions(spec.lr)
                                                                 .betas({spec.beta1, spec.beta2})
                                                                 .eps(spec.eps)
                                                                 .weight_decay(spec.weight_decay));
  return invalid("optimizer.name: expected sgd, adam or adamw");
}

// The value of an early-stopping metric in an epoch's report, if it has one.
std::optional<double> metric_of(const epoch_report& report, const std::string& metric) {
  if (metric == "train_loss") return report.train_loss;
  if (metric == "val_loss") return report.val_loss;
  if (metric == "val_accuracy") return report.val_accuracy;
  if (metric == "val_mae") return report.val_mae;
  return std::nullopt;
}

}  // namespace

struct trainer::impl {
  train_spec spec;
  trainer_options options;
  gradient_sync* sync = nullptr;
  torch::Device device = torch::kCPU;
  bool autocast = false;

  std::vector<std::string> feature_names;
  std::vector<std::string> classes;
  standardization stats;
  std::string fingerprint;
  at::Tensor mean, std;  // on the CPU, for standardising rows
  at::Tensor train_x, train_y, val_x, val_y;

  std::unique_ptr<model> net;
  std::vector<at::Tensor> parameters;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::optional<early_stopping> stopper;

  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;
  // Where the run is: the next epoch and batch, and the current epoch's losses so far.
  int64_t epoch = 0;
  int64_t batch = 0;
  int64_t global_step = 0;
  at::Tensor epoch_loss_sum;
  int64_t epoch_batches = 0;
  bool stopped_early = false;  // a resume after the early stop must not train on
  double lr = 0.0;

  at::Tensor standardized(const at::Tensor& raw) const { return (raw - mean) / std; }

  at::Tensor labels(const std::vector<float>& values) const {
    auto y = to_tensor(values, {static_cast<int64_t>(values.size())});
    return spec.task == task_kind::classification ? y.to(torch::kLong) : y;
  }

  at::Tensor loss_of(const at::Tensor& output, const at::Tensor& y) const {
    if (spec.task == task_kind::classification) return F::cross_entropy(output, y);
    return F::mse_loss(output.reshape({-1}), y);
  }

  void set_lr(double value) {
    if (value == lr) return;
    for (auto& group : optimizer->param_groups()) group.options().set_lr(value);
    lr = value;
  }

  // The whole state, as if the run stood at (`next_epoch`, `next_batch`).
  std::string checkpoint_at(int64_t next_epoch, int64_t next_batch) {
    checkpoint_contents contents;
    contents.state = {{"epoch", next_epoch},
                      {"batch", next_batch},
                      {"global_step", global_step},
                      {"world_size", options.world_size},
                      {"batch_size", spec.batch_size},
                      {"epoch_loss_sum", epoch_loss_sum.item<double>()},
                      {"epoch_batches", epoch_batches},
                      {"stopped_early", stopped_early}};
    if (stopper) {
      const auto& e = stopper->current();
      contents.state["early_stopping"] = {
          {"has_best", e.has_best},
          {"best", e.best},
          {"epochs_without_improvement", e.epochs_without_improvement}};
    }
    torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
    net->save(model_archive);
    optimizer->save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    {
      auto generator = at::globalContext().defaultGenerator(torch::kCPU);
      std::lock_guard<std::mutex> lock(generator.mutex());
      archive.write("rng_cpu", generator.get_state());
    }
    if (device.is_cuda()) {
      auto generator = at::globalContext().defaultGenerator(device);
      std::lock_guard<std::mutex> lock(generator.mutex());
      archive.write("rng_cuda", generator.get_state());
    }
    std::ostringstream out;
    archive.save_to(out);
    contents.tensors = out.str();
    return seal_checkpoint(contents);
  }

  epoch_report evaluate(int64_t epoch_number) {
    epoch_report report;
    report.epoch = epoch_number;
    report.train_loss = epoch_batches == 0
                            ? 0.0
                            : epoch_loss_sum.item<double>() / static_cast<double>(epoch_batches);
    const int64_t rows = val_x.defined() ? val_x.size(0) : 0;
    if (rows == 0) return report;
    torch::NoGradGuard no_grad;
    net->train(false);
    constexpr int64_t chunk = 8192;
    auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(device));
    auto metric_sum = loss_sum.clone();
    for (int64_t start = 0; start < rows; start += chunk) {
      const int64_t n = std::min(chunk, rows - start);
      const auto x = val_x.narrow(0, start, n), y = val_y.narrow(0, start, n);
      at::Tensor out;
      {
        autocast_scope scope(autocast);
        out = net->forward(x);
      }
      out = out.to(torch::kFloat);
      if (spec.task == task_kind::classification) {
        loss_sum += F::cross_entropy(out, y, F::CrossEntropyFuncOptions().reduction(torch::kSum));
        metric_sum += out.argmax(1).eq(y).sum();
      } else {
        const auto diff = out.reshape({-1}) - y;
        loss_sum += diff.pow(2).sum();
        metric_sum += diff.abs().sum();
      }
    }
    net->train(true);
    const double n = static_cast<double>(rows);
    report.val_loss = loss_sum.item<double>() / n;
    if (spec.task == task_kind::classification)
      report.val_accuracy = metric_sum.item<double>() / n;
    else
      report.val_mae = metric_sum.item<double>() / n;
    return report;
  }
};

trainer::trainer(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
trainer::~trainer() = default;

std::variant<std::unique_ptr<trainer>, msg::error> trainer::create(const train_spec& spec,
                                                                   training_data data,
                                                                   gradient_sync& sync,
                                                                   const trainer_options& options) {
  if (spec.batch_size <= 0) return invalid("batch_size: expected a value > 0");
  if (spec.epochs <= 0) return invalid("epochs: expected a value > 0");
  if (options.world_size <= 0 || options.rank < 0 || options.rank >= options.world_size)
    return invalid("rank " + std::to_string(options.rank) + " is outside world size " +
                   std::to_string(options.world_size));
  if (spec.lr_schedule.name == "step" && spec.lr_schedule.step_size <= 0)
    return invalid("lr_schedule.step_size: expected a value > 0");
  if (spec.precision == precision_kind::bf16 && spec.device != device_kind::cuda)
    return invalid("precision: bf16 needs device: cuda");
  if (spec.early_stopping) {
    const auto& metric = spec.early_stopping->metric;
    if (metric != "train_loss" && metric != "val_loss" && metric != "val_accuracy" &&
        metric != "val_mae")
      return invalid(
          "early_stopping.metric: expected val_loss, val_accuracy, val_mae or "
          "train_loss");
    if (metric != "train_loss" && data.validation.rows == 0)
      return invalid("early_stopping.metric: " + metric + " needs validation data");
  }
  if (data.train.rows == 0) return invalid("data: no training rows");

  auto state = std::make_unique<impl>();
  auto& s = *state;
  s.spec = spec;
  s.options = options;
  s.sync = &sync;
  if (spec.device == device_kind::cuda) {
    if (!torch::cuda::is_available())
      return msg::error{msg::error_code::unavailable, "device: cuda is not available here"};
    s.device = torch::Device(torch::kCUDA, 0);
  }
  s.autocast = spec.precision == precision_kind::bf16;
  torch::set_num_threads(options.threads);

  try {
    const int64_t width = data.train.columns();
    s.mean = to_tensor(data.stats.mean, {width});
    s.std = to_tensor(data.stats.std, {width});
    s.train_x =
        s.standardized(to_tensor(data.train.features, {data.train.rows, width})).to(s.device);
    s.train_y = s.labels(data.train.labels).to(s.device);
    if (data.validation.rows > 0) {
      s.val_x = s.standardized(to_tensor(data.validation.features, {data.validation.rows, width}))
                    .to(s.device);
      s.val_y = s.labels(data.validation.labels).to(s.device);
    }
    const int64_t outputs =
        spec.task == task_kind::classification ? static_cast<int64_t>(data.classes.size()) : 1;
    torch::manual_seed(spec.seed);
    auto made = make_model(spec.model, width, outputs);
    if (auto* error = std::get_if<msg::error>(&made)) return *error;
    s.net = std::move(std::get<std::unique_ptr<model>>(made));
    s.net->to(s.device);
    s.net->train(true);
    s.parameters = s.net->parameters();
    auto optimizer = make_optimizer(spec.optimizer, s.parameters);
    if (auto* error = std::get_if<msg::error>(&optimizer)) return *error;
    s.optimizer = std::move(std::get<std::unique_ptr<torch::optim::Optimizer>>(optimizer));
    s.lr = spec.optimizer.lr;
    s.epoch_loss_sum = torch::zeros({}, torch::TensorOptions().device(s.device));
  } catch (const c10::Error& e) {
    return invalid(std::string("the model does not fit the data: ") + e.what_without_backtrace());
  }
  if (spec.early_stopping) s.stopper.emplace(*spec.early_stopping);
  const int64_t shard = (data.train.rows + options.world_size - 1) / options.world_size;
  s.steps_per_epoch = (shard + spec.batch_size - 1) / spec.batch_size;
  s.total_steps = s.steps_per_epoch * spec.epochs;
  s.feature_names = std::move(data.train.feature_names);
  s.classes = std::move(data.classes);
  s.stats = std::move(data.stats);
  s.fingerprint = std::move(data.fingerprint);
  return std::unique_ptr<trainer>(new trainer(std::move(state)));
}

std::variant<run_outcome, msg::error> trainer::run(const trainer_callbacks& callbacks) {
  auto& s = *impl_;
  run_outcome outcome;
  const auto& spec = s.spec;
  const int64_t rows = s.train_x.size(0);
  const int64_t every_steps = spec.checkpoint.every_steps;
  const int64_t report_every = std::max<int64_t>(s.options.report_every_steps, 1);
  if (s.stopped_early) {
    outcome.end = run_end::stopped_early;
    outcome.epochs = s.epoch;
    outcome.steps = s.global_step;
    return outcome;
  }
  try {
    s.sync->broadcast_parameters(s.net->state());
    auto window_start = clock_type::now();
    int64_t window_samples = 0;
    for (; s.epoch < spec.epochs; ++s.epoch, s.batch = 0) {
      const auto order = shard_rows(rows, s.options.rank, s.options.world_size, spec.seed, s.epoch);
      const auto shard = torch::from_blob(const_cast<int64_t*>(order.data()),
                                          {static_cast<int64_t>(order.size())}, torch::kLong)
                             .to(s.device, /*non_blocking=*/false, /*copy=*/true);
      for (; s.batch < s.steps_per_epoch; ++s.batch) {
        if (callbacks.stop_requested && callbacks.stop_requested()) {
          outcome.end = run_end::cancelled;
          outcome.epochs = s.epoch;
          outcome.steps = s.global_step;
          return outcome;
        }
        s.set_lr(learning_rate(spec.lr_schedule, spec.optimizer.lr, s.global_step, s.total_steps));
        const int64_t start = s.batch * spec.batch_size;
        const auto index = shard.narrow(0, start, std::min(spec.batch_size, shard.size(0) - start));
        const auto x = s.train_x.index_select(0, index);
        const auto y = s.train_y.index_select(0, index);
        s.optimizer->zero_grad();
        at::Tensor loss;
        {
          autocast_scope scope(s.autocast);
          loss = s.loss_of(s.net->forward(x), y);
        }
        s.sync->before_backward();
        loss.backward();
        s.sync->after_backward();
        if (spec.grad_clip > 0.0) clip_gradients(s.parameters, spec.grad_clip);
        s.optimizer->step();
        s.epoch_loss_sum += loss.detach();
        ++s.epoch_batches;
        ++s.global_step;
        window_samples += index.size(0);
        if (callbacks.on_step && s.global_step % report_every == 0) {
          const auto now = clock_type::now();
          const double seconds = std::chrono::duration<double>(now - window_start).count();
          callbacks.on_step({s.epoch + 1, s.global_step, loss.item<double>(), s.lr,
                             seconds > 0.0 ? static_cast<double>(window_samples) / seconds : 0.0});
          window_start = now;
          window_samples = 0;
        }
        if (callbacks.on_checkpoint && every_steps > 0 && s.global_step % every_steps == 0) {
          callbacks.on_checkpoint(s.checkpoint_at(s.epoch, s.batch + 1), s.global_step);
        }
      }
      const auto report = s.evaluate(s.epoch + 1);
      s.epoch_loss_sum.zero_();
      s.epoch_batches = 0;
      outcome.last_epoch = report;
      if (callbacks.on_epoch) callbacks.on_epoch(report);
      if (s.stopper) {
        const auto value = metric_of(report, spec.early_stopping->metric);
        s.stopped_early = value && s.stopper->should_stop(*value);
      }
      if (callbacks.on_checkpoint && spec.checkpoint.every_epoch) {
        callbacks.on_checkpoint(s.checkpoint_at(s.epoch + 1, 0), s.global_step);
      }
      if (s.stopped_early) {
        outcome.end = run_end::stopped_early;
        ++s.epoch;
        s.batch = 0;
        break;
      }
      window_start = clock_type::now();
      window_samples = 0;
    }
  } catch (const c10::Error& e) {
    return invalid(std::string("training step failed: ") + e.what_without_backtrace());
  }
  outcome.epochs = s.epoch;
  outcome.steps = s.global_step;
  return outcome;
}

std::string trainer::checkpoint() { return impl_->checkpoint_at(impl_->epoch, impl_->batch); }

std::optional<msg::error> trainer::resume(const std::string& blob) {
  auto opened = open_checkpoint(blob);
  if (auto* error = std::get_if<msg::error>(&opened)) return *error;
  const auto& contents = std::get<checkpoint_contents>(opened);
  auto& s = *impl_;
  try {
    const auto& state = contents.state;
    std::istringstream in(contents.tensors);
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    archive.load_from(in);
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    s.net->load(model_archive);
    s.optimizer->load(optimizer_archive);
    at::Tensor rng;
    archive.read("rng_cpu", rng);
    {
      auto generator = at::globalContext().defaultGenerator(torch::kCPU);
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(rng);
    }
    if (s.device.is_cuda()) {
      archive.read("rng_cuda", rng);
      auto generator = at::globalContext().defaultGenerator(s.device);
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(rng);
    }
    s.epoch = state.at("epoch").get<int64_t>();
    s.global_step = state.at("global_step").get<int64_t>();
    // The same share of the epoch's samples, whatever the world size was.
    const int64_t samples_done = state.at("batch").get<int64_t>() *
                                 state.at("batch_size").get<int64_t>() *
                                 state.at("world_size").get<int64_t>();
    s.batch =
        std::min(samples_done / (s.spec.batch_size * s.options.world_size), s.steps_per_epoch);
    s.epoch_loss_sum.fill_(state.at("epoch_loss_sum").get<double>());
    s.epoch_batches = state.at("epoch_batches").get<int64_t>();
    s.stopped_early = state.at("stopped_early").get<bool>();
    if (s.stopper && state.contains("early_stopping")) {
      const auto& e = state.at("early_stopping");
      s.stopper->restore({e.at("has_best").get<bool>(), e.at("best").get<double>(),
                          e.at("epochs_without_improvement").get<int64_t>()});
    }
  } catch (const c10::Error& e) {
    return invalid(std::string("checkpoint refused: it does not fit this model: ") +
                   e.what_without_backtrace());
  } catch (const nlohmann::json::exception& e) {
    return invalid(std::string("checkpoint refused: its state is incomplete: ") + e.what());
  }
  s.lr = -1.0;  // set again from the schedule at the next step
  return std::nullopt;
}

std::variant<exported_model, msg::error> trainer::export_model() {
  auto& s = *impl_;
  exported_model exported;
  auto& m = exported.metadata;
  m["format"] = 1;
  m["task"] = to_string(s.spec.task);
  m["label"] = s.spec.data.label;
  m["features"] = s.feature_names;
  m["classes"] = s.classes;
  m["standardization"] = {{"mean", s.stats.mean}, {"std", s.stats.std}};
  m["dataset_fingerprint"] = s.fingerprint;
  m["input"] = "raw feature values in the order of features; the module standardises them";
  m["output"] = s.spec.task == task_kind::classification ? "one logit per class"
                                                         : "the predicted label value";
  try {
    torch::jit::Module root("TroupeExportedModel");
    root.register_buffer("mean", s.mean.clone());
    root.register_buffer("std", s.std.clone());
    root.register_module("net", s.net->scripted());
    root.define("def forward(self, x):\n    return self.net.forward((x - self.mean) / self.std)\n");
    root.eval();
    // The exported module must compute what the trained one does.
    const int64_t n = std::min<int64_t>(64, s.train_x.size(0));
    const auto standardized = s.train_x.narrow(0, 0, n);
    const auto raw = (standardized.cpu() * s.std + s.mean);
    torch::NoGradGuard no_grad;
    s.net->train(false);
    const auto expected = s.net->forward(standardized).to(torch::kFloat).cpu();
    s.net->train(true);
    const auto actual = root.forward({raw}).toTensor();
    if (!torch::allclose(actual, expected, 1e-4, 1e-4))
      return msg::error{msg::error_code::internal,
                        "the exported model's outputs differ from the trained model's"};
    // The metadata travels inside model.pt too, so that one artifact is the whole model.
    std::ostringstream out;
    root.save(out, {{std::string(exported_metadata_file), exported.metadata.dump()}});
    exported.torchscript = out.str();
  } catch (const c10::Error& e) {
    return msg::error{msg::error_code::internal,
                      std::string("cannot export the model: ") + e.what_without_backtrace()};
  }
  return exported;
}

int64_t trainer::global_step() const { return impl_->global_step; }

std::vector<float> trainer::predict(const dataset& rows) {
  auto& s = *impl_;
  torch::NoGradGuard no_grad;
  const auto x = s.standardized(to_tensor(rows.features, {rows.rows, rows.columns()}));
  s.net->train(false);
  const auto out = s.net->forward(x.to(s.device)).to(torch::kFloat).cpu().contiguous();
  s.net->train(true);
  return {out.data_ptr<float>(), out.data_ptr<float>() + out.numel()};
}

void write_exported_model(const exported_model& model, const std::string& dir) {
  std::filesystem::create_directories(dir);
  host::write_file_atomically((std::filesystem::path(dir) / "model.pt").string(), model.torchscript,
                              0644);
  host::write_file_atomically((std::filesystem::path(dir) / "model.json").string(),
                              model.metadata.dump(2) + "\n", 0644);
}

}  // namespace troupe::training
