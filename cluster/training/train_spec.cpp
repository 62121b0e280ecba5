#include "cluster/training/train_spec.hpp"

#include <limits>
#include <stdexcept>
#include <tuple>

namespace troupe::training {
namespace {

using json = nlohmann::json;

[[noreturn]] void wrong(const std::string& path, const std::string& why) {
  throw std::invalid_argument(path + ": " + why);
}

void read(const json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) wrong(path, "expected a string");
  out = v.get<std::string>();
}

void read(const json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) wrong(path, "expected true or false");
  out = v.get<bool>();
}

void read(const json& v, const std::string& path, double& out) {
  if (!v.is_number()) wrong(path, "expected a number");
  out = v.get<double>();
}

void read(const json& v, const std::string& path, int64_t& out) {
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<uint64_t>() > std::numeric_limits<int64_t>::max()))
    wrong(path, "expected a whole number");
  out = v.get<int64_t>();
}

void read(const json& v, const std::string& path, uint64_t& out) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    wrong(path, "expected a whole number >= 0");
  out = v.get<uint64_t>();
}

template <class T>
void read(const json& v, const std::string& path, std::vector<T>& out) {
  if (!v.is_array()) wrong(path, "expected a list");
  out.assign(v.size(), T{});
  for (size_t i = 0; i < v.size(); ++i) read(v[i], path + "[" + std::to_string(i) + "]", out[i]);
}

template <class Enum>
void read_enum(const json& v, const std::string& path, Enum& out, std::initializer_list<Enum> all) {
  std::string name;
  read(v, path, name);
  for (auto value : all)
    if (to_string(value) == name) {
      out = value;
      return;
    }
  wrong(path, "unknown value \"" + name + "\"");
}

void read(const json& v, const std::string& path, device_kind& out) {
  read_enum(v, path, out, {device_kind::cpu, device_kind::cuda});
}
void read(const json& v, const std::string& path, task_kind& out) {
  read_enum(v, path, out, {task_kind::classification, task_kind::regression});
}
void read(const json& v, const std::string& path, precision_kind& out) {
  read_enum(v, path, out, {precision_kind::fp32, precision_kind::bf16});
}

// One JSON object at `path`: each field read into its destination when present.
class object_reader {
 public:
  object_reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) wrong(path_.empty() ? "train spec" : path_, "expected an object");
  }

  bool has(const char* key) const { return object_.contains(key); }

  template <class T>
  void field(const char* key, T& out) const {
    if (has(key)) read(object_.at(key), path(key), out);
  }

  object_reader child(const char* key) const { return {object_.at(key), path(key)}; }

 private:
  std::string path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  const json& object_;
  std::string path_;
};

json model_json(const model_spec& m) {
  if (m.type == "torchscript") return {{"type", m.type}, {"path", m.path}};
  return {
      {"type", m.type}, {"layers", m.layers}, {"activation", m.activation}, {"dropout", m.dropout}};
}

json data_json(const data_spec& d, task_kind task) {
  json out = json::object();
  if (d.synthetic) {
    const auto& s = *d.synthetic;
    out["synthetic"] = {{"rows", s.rows}, {"features", s.features}, {"seed", s.seed}};
    if (task == task_kind::classification) out["synthetic"]["classes"] = s.classes;
  } else {
    out["dataset"] = d.dataset;
    out["label"] = d.label;
    if (!d.features.empty()) out["features"] = d.features;
  }
  if (d.validation_dataset.empty())
    out["validation_split"] = d.validation_split;
  else
    out["validation_dataset"] = d.validation_dataset;
  return out;
}

json optimizer_json(const optimizer_spec& o) {
  if (o.name == "sgd")
    return {{"name", o.name},
            {"lr", o.lr},
            {"momentum", o.momentum},
            {"nesterov", o.nesterov},
            {"weight_decay", o.weight_decay}};
  return {{"name", o.name},
          {"lr", o.lr},
          {"betas", {o.beta1, o.beta2}},
          {"eps", o.eps},
          {"weight_decay", o.weight_decay}};
}

json lr_schedule_json(const lr_schedule_spec& s) {
  json out = {{"name", s.name}, {"warmup_steps", s.warmup_steps}};
  if (s.name == "step") {
    out["step_size"] = s.step_size;
    out["gamma"] = s.gamma;
  } else if (s.name == "cosine") {
    out["min_lr"] = s.min_lr;
  }
  return out;
}

model_spec read_model(const object_reader& r) {
  model_spec m;
  r.field("type", m.type);
  r.field("layers", m.layers);
  r.field("activation", m.activation);
  r.field("dropout", m.dropout);
  r.field("path", m.path);
  return m;
}

data_spec read_data(const object_reader& r) {
  data_spec d;
  r.field("dataset", d.dataset);
  if (r.has("synthetic")) {
    const auto s = r.child("synthetic");
    synthetic_data synthetic;
    s.field("rows", synthetic.rows);
    s.field("features", synthetic.features);
    s.field("classes", synthetic.classes);
    s.field("seed", synthetic.seed);
    d.synthetic = synthetic;
  }
  r.field("label", d.label);
  r.field("features", d.features);
  r.field("validation_split", d.validation_split);
  r.field("validation_dataset", d.validation_dataset);
  return d;
}

optimizer_spec read_optimizer(const object_reader& r) {
  optimizer_spec o;
  r.field("name", o.name);
  r.field("lr", o.lr);
  r.field("momentum", o.momentum);
  r.field("nesterov", o.nesterov);
  r.field("weight_decay", o.weight_decay);
  if (r.has("betas")) {
    std::vector<double> betas;
    r.field("betas", betas);
    if (betas.size() != 2) wrong("optimizer.betas", "expected 2 numbers");
    o.beta1 = betas[0];
    o.beta2 = betas[1];
  }
  r.field("eps", o.eps);
  return o;
}

lr_schedule_spec read_lr_schedule(const object_reader& r) {
  lr_schedule_spec s;
  r.field("name", s.name);
  r.field("warmup_steps", s.warmup_steps);
  r.field("step_size", s.step_size);
  r.field("gamma", s.gamma);
  r.field("min_lr", s.min_lr);
  return s;
}

early_stopping_spec read_early_stopping(const object_reader& r) {
  early_stopping_spec e;
  r.field("metric", e.metric);
  r.field("mode", e.mode);
  r.field("patience", e.patience);
  r.field("min_delta", e.min_delta);
  return e;
}

checkpoint_spec read_checkpoint(const object_reader& r) {
  checkpoint_spec c;
  r.field("every_steps", c.every_steps);
  r.field("every_epoch", c.every_epoch);
  r.field("keep", c.keep);
  return c;
}

auto tied(const model_spec& m) {
  return std::tie(m.type, m.layers, m.activation, m.dropout, m.path);
}
auto tied(const synthetic_data& s) { return std::tie(s.rows, s.features, s.classes, s.seed); }
auto tied(const optimizer_spec& o) {
  return std::tie(o.name, o.lr, o.momentum, o.nesterov, o.weight_decay, o.beta1, o.beta2, o.eps);
}
auto tied(const lr_schedule_spec& s) {
  return std::tie(s.name, s.warmup_steps, s.step_size, s.gamma, s.min_lr);
}
auto tied(const early_stopping_spec& e) {
  return std::tie(e.metric, e.mode, e.patience, e.min_delta);
}
auto tied(const checkpoint_spec& c) { return std::tie(c.every_steps, c.every_epoch, c.keep); }

template <class T>
bool same(const T& a, const T& b) {
  return tied(a) == tied(b);
}

template <class T>
bool same(const std::optional<T>& a, const std::optional<T>& b) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

bool same(const data_spec& a, const data_spec& b) {
  return a.dataset == b.dataset && same(a.synthetic, b.synthetic) && a.label == b.label &&
         a.features == b.features && a.validation_split == b.validation_split &&
         a.validation_dataset == b.validation_dataset;
}

}  // namespace

std::string_view to_string(device_kind device) {
  return device == device_kind::cuda ? "cuda" : "cpu";
}

std::string_view to_string(task_kind task) {
  return task == task_kind::regression ? "regression" : "classification";
}

std::string_view to_string(precision_kind precision) {
  return precision == precision_kind::bf16 ? "bf16" : "fp32";
}

bool operator==(const train_spec& a, const train_spec& b) {
  return a.world_size == b.world_size && a.device == b.device && same(a.model, b.model) &&
         a.task == b.task && same(a.data, b.data) && same(a.optimizer, b.optimizer) &&
         same(a.lr_schedule, b.lr_schedule) && a.grad_clip == b.grad_clip &&
         a.precision == b.precision && a.epochs == b.epochs && a.batch_size == b.batch_size &&
         a.seed == b.seed && same(a.early_stopping, b.early_stopping) &&
         same(a.checkpoint, b.checkpoint) && a.elastic_min_world_size == b.elastic_min_world_size &&
         a.model_name == b.model_name && a.bucket_mb == b.bucket_mb;
}

json to_json(const train_spec& spec) {
  json out = {{"world_size", spec.world_size},
              {"device", to_string(spec.device)},
              {"model", model_json(spec.model)},
              {"task", to_string(spec.task)},
              {"data", data_json(spec.data, spec.task)},
              {"optimizer", optimizer_json(spec.optimizer)},
              {"lr_schedule", lr_schedule_json(spec.lr_schedule)},
              {"grad_clip", spec.grad_clip},
              {"precision", to_string(spec.precision)},
              {"epochs", spec.epochs},
              {"batch_size", spec.batch_size},
              {"seed", spec.seed},
              {"checkpoint",
               {{"every_steps", spec.checkpoint.every_steps},
                {"every_epoch", spec.checkpoint.every_epoch},
                {"keep", spec.checkpoint.keep}}},
              {"output", {{"model_name", spec.model_name}}},
              {"bucket_mb", spec.bucket_mb}};
  if (const auto& e = spec.early_stopping)
    out["early_stopping"] = {{"metric", e->metric},
                             {"mode", e->mode},
                             {"patience", e->patience},
                             {"min_delta", e->min_delta}};
  if (spec.elastic_min_world_size)
    out["elastic"] = {{"min_world_size", *spec.elastic_min_world_size}};
  return out;
}

train_spec train_spec_from_json(const json& json) {
  const object_reader r(json, "");
  train_spec spec;
  r.field("world_size", spec.world_size);
  r.field("device", spec.device);
  if (r.has("model")) spec.model = read_model(r.child("model"));
  r.field("task", spec.task);
  if (r.has("data")) spec.data = read_data(r.child("data"));
  if (r.has("optimizer")) spec.optimizer = read_optimizer(r.child("optimizer"));
  if (r.has("lr_schedule")) spec.lr_schedule = read_lr_schedule(r.child("lr_schedule"));
  r.field("grad_clip", spec.grad_clip);
  r.field("precision", spec.precision);
  r.field("epochs", spec.epochs);
  r.field("batch_size", spec.batch_size);
  r.field("seed", spec.seed);
  if (r.has("early_stopping")) spec.early_stopping = read_early_stopping(r.child("early_stopping"));
  if (r.has("checkpoint")) spec.checkpoint = read_checkpoint(r.child("checkpoint"));
  if (r.has("elastic")) {
    int64_t min_world_size = 0;
    r.child("elastic").field("min_world_size", min_world_size);
    spec.elastic_min_world_size = min_world_size;
  }
  if (r.has("output")) r.child("output").field("model_name", spec.model_name);
  r.field("bucket_mb", spec.bucket_mb);
  return spec;
}

}  // namespace troupe::training
