// Trains one rank's model on its shard of a job's data: the model, the optimizer with its
// learning-rate schedule and gradient clipping, early stopping, checkpoints and the exported
// model. No torch in this header (the rank process's CAF code may include it); the gradient
// exchange between ranks comes in through gradient_sync.
//
//   create → [resume(checkpoint)] → run(callbacks) → export_model()
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/training/dataset.hpp"
#include "cluster/training/train_spec.hpp"
#include "messages/error.hpp"

namespace troupe::training {

class gradient_sync;

struct trainer_options {
  int64_t rank = 0;
  int64_t world_size = 1;
  int threads = 1;  // torch::set_num_threads; OPENBLAS_NUM_THREADS=1 must be set at start
  // A step report reads the loss off the device (a sync): only every this many steps.
  int64_t report_every_steps = 50;
};

// Epochs and steps count from 1; `step` counts every optimizer step of the run.
struct step_report {
  int64_t epoch = 0;
  int64_t step = 0;
  double loss = 0.0;                // this step's, on this rank's batch
  double lr = 0.0;                  // the rate this step used
  double samples_per_second = 0.0;  // this rank's, since the previous report
};

struct epoch_report {
  int64_t epoch = 0;
  double train_loss = 0.0;  // the mean of this rank's step losses
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;  // classification
  std::optional<double> val_mae;       // regression
};

// Called on the training thread; each may be empty.
struct trainer_callbacks {
  std::function<void(const step_report&)> on_step;
  std::function<void(const epoch_report&)> on_epoch;
  // A checkpoint is due (checkpoint.every_steps, checkpoint.every_epoch): its blob.
  std::function<void(const std::string& checkpoint, int64_t step)> on_checkpoint;
  // Polled before every step: true stops the run (cancel).
  std::function<bool()> stop_requested;
};

enum class run_end { finished, stopped_early, cancelled };

struct run_outcome {
  run_end end = run_end::finished;
  int64_t epochs = 0;  // epochs completed, counting those before a resume
  int64_t steps = 0;
  std::optional<epoch_report> last_epoch;
};

// The model for inference: a TorchScript module taking raw feature values (in the order of
// metadata["features"]) and standardising them itself, returning class logits or the
// regression target; and its metadata.
// model.pt carries the metadata as the extra file `exported_metadata_file` (torch::jit::load's
// extra files), so the one artifact the registry keeps is the whole model.
struct exported_model {
  std::string torchscript;  // torch::jit::load reads these bytes
  nlohmann::json metadata;  // features, standardization, task, label, classes, fingerprint
};

inline constexpr const char* exported_metadata_file = "troupe/model.json";

// Writes model.pt and model.json into `dir` atomically; throws host::file_error.
void write_exported_model(const exported_model& model, const std::string& dir);

class trainer {
 public:
  // invalid_request names the spec field that does not fit the data; unavailable when the
  // device cannot be used here.
  static std::variant<std::unique_ptr<trainer>, msg::error> create(const train_spec& spec,
                                                                   training_data data,
                                                                   gradient_sync& sync,
                                                                   const trainer_options& options);
  ~trainer();
  trainer(const trainer&) = delete;
  trainer& operator=(const trainer&) = delete;

  // Continues from a checkpoint blob exactly where it was taken (on another world size, from
  // the same share of the epoch's samples). A damaged or foreign checkpoint is refused.
  std::optional<msg::error> resume(const std::string& checkpoint);

  // Trains to the last epoch, an early stop or a cancel. A failing training step (a user's
  // module that does not fit the data) is an invalid_request.
  std::variant<run_outcome, msg::error> run(const trainer_callbacks& callbacks);

  // The whole training state now, as a blob for resume().
  std::string checkpoint();

  // Optimizer steps taken so far, counting those before a resume.
  int64_t global_step() const;

  std::variant<exported_model, msg::error> export_model();

  // The model's outputs (eval mode) for raw rows: rows × outputs, row-major.
  std::vector<float> predict(const dataset& rows);

 private:
  struct impl;
  explicit trainer(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe::training
