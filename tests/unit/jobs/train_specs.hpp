// The train specs the train kind's tests start from (train_kind_test: its fields;
// train_launch_test: what a rank is started with, the spec as JSON).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cluster/jobs/job_spec.hpp"
#include "cluster/training/train_spec.hpp"
#include "spec_checks.hpp"

namespace troupe::jobs::test {

using fields = std::vector<std::pair<std::string, std::string>>;

// A valid train spec whose top-level lines `changes` replace by key (an empty value drops the
// line) or add to.
inline std::string train_text(const fields& changes = {}) {
  fields lines{{"name", "txn"},
               {"kind", "train"},
               {"model", "{type: mlp, layers: [4, 8, 3]}"},
               {"data", "{synthetic: {rows: 100, features: 4, classes: 3}}"},
               {"optimizer", "{name: sgd, lr: 0.1}"}};
  for (const auto& [key, value] : changes) {
    bool replaced = false;
    for (auto& line : lines)
      if (line.first == key) line.second = value, replaced = true;
    if (!replaced) lines.emplace_back(key, value);
  }
  std::string text;
  for (const auto& [key, value] : lines)
    if (!value.empty()) text += key + ": " + value + "\n";
  return text;
}

inline refusal refused_train(const fields& changes) { return refused(train_text(changes)); }

inline training::train_spec parsed(const std::string& text) {
  return training::train_spec_from_json(parse_job_spec(text).kind_fields);
}

// The example, as a dataset with a validation split.
inline const fields dataset_data{
    {"model", "{type: mlp, layers: [64, 256, 10]}"},
    {"data", "{dataset: txn-train, label: category, validation_split: 0.1}"}};

inline fields with(fields base, const fields& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// A spec listing `count` feature columns named like c00001 (6 bytes, 9 as JSON).
inline std::string spec_with_features(size_t count) {
  std::string features = "[";
  for (size_t i = 0; i < count; ++i) {
    const auto digits = std::to_string(100000 + i);
    features += (i ? ", c" : "c") + digits.substr(digits.size() - 5);
  }
  return train_text({{"model", "{type: torchscript, path: net.pt}"},
                     {"data", "{dataset: d, label: y, features: " + features + "]}"}});
}

// Every field set, for each variant: mlp on a dataset with its own validation set, adamw,
// cosine; torchscript on synthetic regression data, sgd, step.
inline training::train_spec every_field_mlp() {
  training::train_spec s;
  s.world_size = 4;
  s.device = training::device_kind::cuda;
  s.model = {"mlp", {3, 16, 16, 5}, "gelu", 0.25, ""};
  s.task = training::task_kind::classification;
  s.data.dataset = "txn-train";
  s.data.label = "category";
  s.data.features = {"amount", "hour_sin", "hour_cos"};
  s.data.validation_dataset = "txn-val";
  s.optimizer = {"adamw", 0.003, 0.0, false, 0.05, 0.85, 0.995, 1e-7};
  s.lr_schedule = {"cosine", 100, 0, 0.1, 1e-5};
  s.grad_clip = 1.5;
  s.precision = training::precision_kind::bf16;
  s.epochs = 7;
  s.batch_size = 512;
  s.seed = 9007199254740993u;  // not exact as a double
  s.early_stopping = training::early_stopping_spec{"val_accuracy", "max", 3, 0.001};
  s.checkpoint = {250, false, 5};
  s.elastic_min_world_size = 2;
  s.model_name = "txn-category";
  s.bucket_mb = 50;
  return s;
}

inline training::train_spec every_field_torchscript() {
  training::train_spec s;
  s.world_size = 2;
  s.model.type = "torchscript";
  s.model.path = "ranker.pt";
  s.task = training::task_kind::regression;
  s.data.synthetic = training::synthetic_data{200000, 64, 0, 7};
  s.data.validation_split = 0.2;
  s.optimizer = {"sgd", 0.05, 0.9, true, 1e-4, 0.9, 0.999, 1e-8};
  s.lr_schedule = {"step", 10, 1000, 0.5, 0.0};
  s.early_stopping = training::early_stopping_spec{"val_mae", "min", 0, 0.0};
  s.checkpoint = {500, true, 3};
  s.model_name = "ranker";
  return s;
}

}  // namespace troupe::jobs::test
