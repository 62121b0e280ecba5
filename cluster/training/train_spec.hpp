// What a `train` job asks for, as plain values: the job spec's kind fields once validated
// (cluster/jobs/kinds/train), and what each rank process's trainer runs. No torch here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::training {

enum class device_kind { cpu, cuda };
enum class task_kind { classification, regression };
enum class precision_kind { fp32, bf16 };  // bf16: autocast on CUDA only

struct model_spec {
  std::string type = "mlp";         // mlp | torchscript
  std::vector<int64_t> layers;      // mlp: input, hidden..., output
  std::string activation = "relu";  // relu | gelu | tanh | sigmoid
  double dropout = 0.0;
  std::string path;  // torchscript: the saved module (torch.jit.script(m).save(path))
};

struct synthetic_data {
  int64_t rows = 0;
  int64_t features = 0;
  int64_t classes = 0;  // 0 for regression
  uint64_t seed = 0;
};

struct data_spec {
  std::string dataset;  // a dataset name in the artifact store (troupe data put)
  std::optional<synthetic_data> synthetic;
  std::string label;                  // the label column
  std::vector<std::string> features;  // empty: every other column
  double validation_split = 0.0;
  std::string validation_dataset;  // instead of a split
};

struct optimizer_spec {
  std::string name = "sgd";  // sgd | adam | adamw
  double lr = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

struct lr_schedule_spec {
  std::string name = "constant";  // constant | step | cosine
  int64_t warmup_steps = 0;       // linear warm-up before the schedule
  int64_t step_size = 0;          // step: every N steps...
  double gamma = 0.1;             // ...multiply by gamma
  double min_lr = 0.0;            // cosine: the floor at the last step
};

struct early_stopping_spec {
  std::string metric = "val_loss";  // val_loss | val_accuracy | val_mae | train_loss
  std::string mode = "min";         // min | max
  int64_t patience = 0;             // epochs without improvement before stopping
  double min_delta = 0.0;
};

struct checkpoint_spec {
  int64_t every_steps = 0;  // 0: not by steps
  bool every_epoch = true;
  int64_t keep = 3;
};

struct train_spec {
  int64_t world_size = 1;
  device_kind device = device_kind::cpu;
  model_spec model;
  task_kind task = task_kind::classification;
  data_spec data;
  optimizer_spec optimizer;
  lr_schedule_spec lr_schedule;
  double grad_clip = 0.0;  // 0: none; else max global L2 norm
  precision_kind precision = precision_kind::fp32;
  int64_t epochs = 1;
  int64_t batch_size = 32;  // per rank
  uint64_t seed = 0;
  std::optional<early_stopping_spec> early_stopping;
  checkpoint_spec checkpoint;
  std::optional<int64_t> elastic_min_world_size;
  std::string model_name;  // output.model_name: the registry name
  int64_t bucket_mb = 25;  // gradient all-reduce bucket size
};

// Names as a spec writes them: "cpu", "cuda", "classification", "regression", "fp32", "bf16".
std::string_view to_string(device_kind device);
std::string_view to_string(task_kind task);
std::string_view to_string(precision_kind precision);

// Field by field, for tests and for a resumed job checking its spec is unchanged.
bool operator==(const train_spec& a, const train_spec& b);
inline bool operator!=(const train_spec& a, const train_spec& b) { return !(a == b); }

// The spec as the rank processes receive it, and back. Round-trips exactly; from_json throws
// std::invalid_argument naming the field on a value it cannot take.
//
// The JSON has the train spec's own layout (docs/jobs.md, "train"), every field written, so a
// job spec's kind fields are this JSON and parse back to the same spec. Fields of the variant
// not chosen are left out (model.path of an mlp, optimizer.betas of sgd, data.label of
// synthetic data...) and keep their defaults here; from_json gives absent fields their
// defaults too.
nlohmann::json to_json(const train_spec& spec);
train_spec train_spec_from_json(const nlohmann::json& json);

}  // namespace troupe::training
