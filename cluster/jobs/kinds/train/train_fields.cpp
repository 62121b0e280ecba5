#include "cluster/jobs/kinds/train/train_fields.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include "cluster/jobs/job_spec.hpp"
#include "cluster/jobs/kinds/artifact_fields.hpp"
#include "cluster/models/model_ref.hpp"

namespace troupe::jobs {
namespace {

namespace tr = training;
namespace limits = train_limits;
using names = std::vector<std::string_view>;

std::string text_of(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// The value at `key` when it is one of `choices`.
std::optional<std::string> choice(const spec_map& m, std::string_view key, const names& choices) {
  auto value = m.text(key);
  if (!value || std::find(choices.begin(), choices.end(), *value) != choices.end()) return value;
  std::string known;
  for (auto c : choices) known += (known.empty() ? "" : ", ") + std::string(c);
  throw spec_error(m.path(key), "expected one of " + known + ", got " + shown(*value));
}

void refuse_one(const std::string& path, double value) {
  if (value == 1) throw spec_error(path, "must be at least 0 and less than 1, got 1");
}

// A fraction in [0, 1): dropout, momentum, validation_split.
std::optional<double> below_one(const spec_map& m, std::string_view key) {
  const auto value = m.number(key, 0, 1);
  if (value) refuse_one(m.path(key), *value);
  return value;
}

// One of the enum's values by its name (training::to_string); the first is the default.
template <class Enum>
Enum read_enum(const spec_map& m, std::string_view key, std::initializer_list<Enum> values) {
  names choices;
  for (auto value : values) choices.push_back(tr::to_string(value));
  const auto name = choice(m, key, choices);
  for (auto value : values)
    if (name && tr::to_string(value) == *name) return value;
  return *values.begin();
}

tr::model_spec read_model(const spec_map& m) {
  m.allow_only({"type", "layers", "activation", "dropout", "path"});  // a typo before its type
  tr::model_spec out;
  out.type = m.required(choice(m, "type", {"mlp", "torchscript"}), "type");
  if (out.type == "torchscript") {
    m.allow_only({"type", "path"});
    out.path = m.required(m.name("path"), "path");
    return out;
  }
  m.allow_only({"type", "layers", "activation", "dropout"});
  out.layers = m.required(m.integer_list("layers", 1, limits::max_width), "layers");
  if (out.layers.size() < 2 || out.layers.size() > limits::max_layers)
    throw spec_error(m.path("layers"), "expected 2 to " + std::to_string(limits::max_layers) +
                                           " widths (input, hidden..., output), got " +
                                           std::to_string(out.layers.size()));
  out.activation =
      choice(m, "activation", {"relu", "gelu", "tanh", "sigmoid"}).value_or(out.activation);
  out.dropout = below_one(m, "dropout").value_or(out.dropout);
  return out;
}

tr::synthetic_data read_synthetic(const spec_map& m, tr::task_kind task) {
  m.allow_only({"rows", "features", "classes", "seed"});
  tr::synthetic_data out;
  out.rows = m.required(m.integer("rows", 1, limits::max_rows), "rows");
  out.features = m.required(m.integer("features", 1, limits::max_features), "features");
  const auto classes = m.integer("classes", 2, limits::max_classes);
  if (task == tr::task_kind::classification)
    out.classes = m.required(classes, "classes");
  else if (classes)
    throw spec_error(m.path("classes"), "only for task classification (regression has no classes)");
  out.seed = m.whole("seed", 0, std::numeric_limits<int64_t>::max()).value_or(out.seed);
  return out;
}

tr::data_spec read_data(const spec_map& m, tr::task_kind task) {
  tr::data_spec out;
  const auto dataset = dataset_name(m, "dataset");
  const auto synthetic = m.map("synthetic");
  if (dataset && synthetic)
    throw spec_error(m.path("synthetic"), "give dataset or synthetic, not both");
  if (synthetic) {
    m.allow_only({"synthetic", "validation_split"});
    out.synthetic = read_synthetic(*synthetic, task);
  } else {
    m.allow_only({"dataset", "label", "features", "validation_split", "validation_dataset"});
    if (!dataset)
      throw spec_error(m.path("dataset"), "required field missing (give dataset or synthetic)");
    out.dataset = *dataset;
    out.label = read_column(m.path("label"), m.required(m.text("label"), "label"));
    out.features = read_features(m, out.label, "label");
    out.validation_dataset = dataset_name(m, "validation_dataset").value_or("");
    if (out.validation_dataset == out.dataset)
      throw spec_error(m.path("validation_dataset"),
                       "must differ from dataset: validation on the training data measures "
                       "nothing");
  }
  const auto split = below_one(m, "validation_split");
  if (split && !out.validation_dataset.empty())
    throw spec_error(m.path("validation_dataset"),
                     "give validation_split or validation_dataset, not both");
  out.validation_split = split.value_or(out.validation_split);
  return out;
}

tr::optimizer_spec read_optimizer(const spec_map& m) {
  m.allow_only({"name", "lr", "momentum", "nesterov", "weight_decay", "betas", "eps"});
  tr::optimizer_spec out;
  out.name = m.required(choice(m, "name", {"sgd", "adam", "adamw"}), "name");
  const bool sgd = out.name == "sgd";
  if (sgd)
    m.allow_only({"name", "lr", "momentum", "nesterov", "weight_decay"});
  else
    m.allow_only({"name", "lr", "betas", "eps", "weight_decay"});
  out.lr = m.required(m.number("lr", 0, limits::max_lr, true), "lr");
  // AdamW's point is its decoupled weight decay: PyTorch's default 0.01, not 0.
  out.weight_decay = m.number("weight_decay", 0, 1).value_or(out.name == "adamw" ? 0.01 : 0.0);
  if (sgd) {
    out.momentum = below_one(m, "momentum").value_or(out.momentum);
    out.nesterov = m.boolean("nesterov").value_or(out.nesterov);
    if (out.nesterov && out.momentum == 0)
      throw spec_error(m.path("nesterov"), "needs momentum greater than 0");
    return out;
  }
  if (const auto betas = m.number_list("betas", 0, 1)) {
    if (betas->size() != 2)
      throw spec_error(m.path("betas"),
                       "expected 2 numbers [beta1, beta2], got " + std::to_string(betas->size()));
    for (size_t i = 0; i < 2; ++i) refuse_one(item_path(m.path("betas"), i), (*betas)[i]);
    out.beta1 = (*betas)[0];
    out.beta2 = (*betas)[1];
  }
  out.eps = m.number("eps", 0, 1, true).value_or(out.eps);
  return out;
}

tr::lr_schedule_spec read_lr_schedule(const spec_map& m, double lr) {
  tr::lr_schedule_spec out;
  out.name = choice(m, "name", {"constant", "step", "cosine"}).value_or(out.name);
  if (out.name == "step")
    m.allow_only({"name", "warmup_steps", "step_size", "gamma"});
  else if (out.name == "cosine")
    m.allow_only({"name", "warmup_steps", "min_lr"});
  else
    m.allow_only({"name", "warmup_steps"});
  out.warmup_steps = m.integer("warmup_steps", 0, limits::max_steps).value_or(out.warmup_steps);
  if (out.name == "step") {
    out.step_size = m.required(m.integer("step_size", 1, limits::max_steps), "step_size");
    out.gamma = m.number("gamma", 0, 1, true).value_or(out.gamma);
  } else if (out.name == "cosine") {
    out.min_lr = m.number("min_lr", 0, limits::max_lr).value_or(out.min_lr);
    if (out.min_lr > lr)
      throw spec_error(m.path("min_lr"), "must be at most optimizer.lr (" + text_of(lr) +
                                             "), got " + text_of(out.min_lr));
  }
  return out;
}

bool has_validation(const tr::data_spec& data) {
  return data.validation_split > 0 || !data.validation_dataset.empty();
}

tr::early_stopping_spec read_early_stopping(const spec_map& m, const tr::train_spec& spec) {
  m.allow_only({"metric", "mode", "patience", "min_delta"});
  tr::early_stopping_spec out;
  out.metric = choice(m, "metric", {"val_loss", "val_accuracy", "val_mae", "train_loss"})
                   .value_or(out.metric);
  const bool classification = spec.task == tr::task_kind::classification;
  if (out.metric == "val_accuracy" && !classification)
    throw spec_error(m.path("metric"),
                     "val_accuracy is for task classification; regression has val_loss, val_mae "
                     "and train_loss");
  if (out.metric == "val_mae" && classification)
    throw spec_error(m.path("metric"),
                     "val_mae is for task regression; classification has val_loss, val_accuracy "
                     "and train_loss");
  if (out.metric != "train_loss" && !has_validation(spec.data))
    throw spec_error(m.path("metric"), out.metric +
                                           " needs validation data: give data.validation_split "
                                           "or data.validation_dataset");
  out.mode =
      choice(m, "mode", {"min", "max"}).value_or(out.metric == "val_accuracy" ? "max" : "min");
  out.patience = m.integer("patience", 0, limits::max_patience).value_or(out.patience);
  out.min_delta = m.number("min_delta", 0, limits::max_min_delta).value_or(out.min_delta);
  return out;
}

tr::checkpoint_spec read_checkpoint(const spec_map& m) {
  m.allow_only({"every_steps", "every_epoch", "keep"});
  tr::checkpoint_spec out;
  out.every_steps = m.integer("every_steps", 0, limits::max_steps).value_or(out.every_steps);
  out.every_epoch = m.boolean("every_epoch").value_or(out.every_epoch);
  out.keep = m.integer("keep", 1, limits::max_keep).value_or(out.keep);
  return out;
}

int64_t read_elastic(const spec_map& m, int64_t world_size) {
  m.allow_only({"min_world_size"});
  const auto min_world_size =
      m.required(m.integer("min_world_size", 1, static_cast<int64_t>(spec_limits::max_tasks)),
                 "min_world_size");
  if (min_world_size > world_size)
    throw spec_error(m.path("min_world_size"), "must be at most world_size (" +
                                                   std::to_string(world_size) + "), got " +
                                                   std::to_string(min_world_size));
  return min_world_size;
}

// A name the registry takes, which the job's own name need not be.
std::string read_model_name(const spec_map& spec) {
  const auto job_name = spec.required(spec.name("name"), "name");
  const auto output = spec.map("output");
  if (output) output->allow_only({"model_name"});
  const auto given = output ? output->text("model_name") : std::nullopt;
  const auto name = given.value_or(job_name);
  if (!models::is_model_name(name))
    throw spec_error("output.model_name", std::string("expected a model name, ") +
                                              models::name_rule + ", got " + shown(name) +
                                              (given ? "" : " (the job's name)"));
  return name;
}

// An mlp's input width is the data's feature count and its output width the class count (1 for
// regression), where the spec knows them; otherwise the trainer checks them against the data.
void check_widths(const spec_map& spec, const tr::train_spec& out) {
  const auto& layers = out.model.layers;
  if (out.model.type != "mlp") return;
  const auto layers_path = child_path(spec.path("model"), "layers");
  const auto& synthetic = out.data.synthetic;
  const auto input = item_path(layers_path, 0);
  if (synthetic && layers.front() != synthetic->features)
    throw spec_error(input, "the input width must be data.synthetic.features (" +
                                std::to_string(synthetic->features) + "), got " +
                                std::to_string(layers.front()));
  const auto features = static_cast<int64_t>(out.data.features.size());
  if (features > 0 && layers.front() != features)
    throw spec_error(input, "the input width must be the number of data.features (" +
                                std::to_string(features) + "), got " +
                                std::to_string(layers.front()));
  const auto output = item_path(layers_path, layers.size() - 1);
  if (out.task == tr::task_kind::regression && layers.back() != 1)
    throw spec_error(output, "the output width must be 1 for task regression, got " +
                                 std::to_string(layers.back()));
  if (synthetic && out.task == tr::task_kind::classification && layers.back() != synthetic->classes)
    throw spec_error(output, "the output width must be data.synthetic.classes (" +
                                 std::to_string(synthetic->classes) + "), got " +
                                 std::to_string(layers.back()));
}

}  // namespace

training::train_spec read_train_fields(const spec_map& spec) {
  tr::train_spec out;
  out.world_size = spec.integer("world_size", 1, static_cast<int64_t>(spec_limits::max_tasks))
                       .value_or(out.world_size);
  out.device = read_enum(spec, "device", {tr::device_kind::cpu, tr::device_kind::cuda});
  out.task = read_enum(spec, "task", {tr::task_kind::classification, tr::task_kind::regression});
  out.model = read_model(spec.required(spec.map("model"), "model"));
  out.data = read_data(spec.required(spec.map("data"), "data"), out.task);
  check_widths(spec, out);
  out.optimizer = read_optimizer(spec.required(spec.map("optimizer"), "optimizer"));
  if (const auto schedule = spec.map("lr_schedule"))
    out.lr_schedule = read_lr_schedule(*schedule, out.optimizer.lr);
  out.grad_clip = spec.number("grad_clip", 0, limits::max_grad_clip).value_or(out.grad_clip);
  out.precision =
      read_enum(spec, "precision", {tr::precision_kind::fp32, tr::precision_kind::bf16});
  if (out.precision == tr::precision_kind::bf16 && out.device != tr::device_kind::cuda)
    throw spec_error(spec.path("precision"),
                     "bf16 needs device cuda (its autocast runs on CUDA only), got device cpu");
  out.epochs = spec.integer("epochs", 1, limits::max_epochs).value_or(out.epochs);
  out.batch_size = spec.integer("batch_size", 1, limits::max_batch_size).value_or(out.batch_size);
  out.seed = spec.whole("seed", 0, std::numeric_limits<int64_t>::max()).value_or(out.seed);
  if (const auto early = spec.map("early_stopping"))
    out.early_stopping = read_early_stopping(*early, out);
  if (const auto checkpoint = spec.map("checkpoint")) out.checkpoint = read_checkpoint(*checkpoint);
  if (const auto elastic = spec.map("elastic"))
    out.elastic_min_world_size = read_elastic(*elastic, out.world_size);
  out.model_name = read_model_name(spec);
  out.bucket_mb = spec.integer("bucket_mb", 1, limits::max_bucket_mb).value_or(out.bucket_mb);
  return out;
}

}  // namespace troupe::jobs
