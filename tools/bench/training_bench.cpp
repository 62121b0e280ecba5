// troupe-bench-training: the cost of Troupe's trainer over a plain libtorch loop, on one rank.
// The workload: MLP 64→256→256→10, ReLU, cross-entropy, SGD lr 0.05 momentum 0.9,
// synthetic rows (64 features, 10 classes), batch 256, 1 epoch, one torch thread and
// OPENBLAS_NUM_THREADS=1. Each run trains the plain loop, the trainer (single_rank_sync, a
// step report every 50 steps) and the trainer with a checkpoint every 500 steps written to a
// temp dir (fsync included), from the same seed, in a different order each run, and prints
// samples/s by wall and by process CPU time (the steadier figure on a busy machine).
// The final loss is each model's mean cross-entropy over all rows after the epoch.
//
//   troupe-bench-training [ROWS] [RUNS]   (default: 200000 rows, 3 runs)
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cluster/training/checkpoint.hpp"
#include "cluster/training/gradient_sync.hpp"
#include "cluster/training/trainer.hpp"

namespace {

using namespace troupe::training;
namespace F = torch::nn::functional;

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct measured {
  double wall = 0.0;  // samples/s
  double cpu = 0.0;
  double final_loss = 0.0;
};

train_spec workload(int64_t rows) {
  train_spec spec;
  spec.model.layers = {64, 256, 256, 10};
  spec.data.synthetic = synthetic_data{rows, 64, 10, 1};
  spec.optimizer.lr = 0.05;
  spec.optimizer.momentum = 0.9;
  spec.epochs = 1;
  spec.batch_size = 256;
  spec.seed = 42;
  spec.checkpoint.every_epoch = false;
  return spec;
}

at::Tensor tensor_of(const std::vector<float>& values, at::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat).clone();
}

// What a person writes with libtorch alone: shuffle, index, forward, loss, backward, step.
measured plain_loop(const training_data& data, const train_spec& spec) {
  const int64_t rows = data.train.rows, width = data.train.columns();
  const auto x =
      (tensor_of(data.train.features, {rows, width}) - tensor_of(data.stats.mean, {width})) /
      tensor_of(data.stats.std, {width});
  const auto y = tensor_of(data.train.labels, {rows}).to(torch::kLong);
  torch::manual_seed(spec.seed);
  torch::nn::Sequential net(torch::nn::Linear(64, 256), torch::nn::ReLU(),
                            torch::nn::Linear(256, 256), torch::nn::ReLU(),
                            torch::nn::Linear(256, 10));
  torch::optim::SGD optimizer(net->parameters(),
                              torch::optim::SGDOptions(spec.optimizer.lr).momentum(0.9));
  const double wall = wall_seconds(), cpu = process_cpu_seconds();
  const auto order = torch::randperm(rows, torch::kLong);
  for (int64_t start = 0; start < rows; start += spec.batch_size) {
    const auto index = order.narrow(0, start, std::min(spec.batch_size, rows - start));
    optimizer.zero_grad();
    auto loss = F::cross_entropy(net->forward(x.index_select(0, index)), y.index_select(0, index));
    loss.backward();
    optimizer.step();
  }
  measured m;
  m.wall = static_cast<double>(rows) / (wall_seconds() - wall);
  m.cpu = static_cast<double>(rows) / (process_cpu_seconds() - cpu);
  torch::NoGradGuard no_grad;
  net->eval();
  m.final_loss = F::cross_entropy(net->forward(x), y).item<double>();
  return m;
}

measured with_trainer(const training_data& data, const train_spec& spec,
                      const std::string& checkpoint_dir, int* checkpoints, double* checkpoint_ms) {
  single_rank_sync sync;
  auto made = trainer::create(spec, data, sync, {});
  if (auto* error = std::get_if<troupe::msg::error>(&made)) {
    std::fprintf(stderr, "trainer: %s\n", error->message.c_str());
    std::exit(1);
  }
  auto& t = *std::get<std::unique_ptr<trainer>>(made);
  checkpoint_directory directory(checkpoint_dir, 3);
  trainer_callbacks callbacks;
  double last_loss = 0.0;
  callbacks.on_step = [&](const step_report& r) { last_loss = r.loss; };
  if (checkpoints) {
    callbacks.on_checkpoint = [&](const std::string& blob, int64_t step) {
      const double start = wall_seconds();
      directory.save(blob, step);
      *checkpoint_ms += (wall_seconds() - start) * 1e3;
      ++*checkpoints;
    };
  }
  const double wall = wall_seconds(), cpu = process_cpu_seconds();
  auto outcome = t.run(callbacks);
  measured m;
  m.wall = static_cast<double>(data.train.rows) / (wall_seconds() - wall);
  m.cpu = static_cast<double>(data.train.rows) / (process_cpu_seconds() - cpu);
  if (auto* error = std::get_if<troupe::msg::error>(&outcome)) {
    std::fprintf(stderr, "trainer: %s\n", error->message.c_str());
    std::exit(1);
  }
  const auto outputs = t.predict(data.train);
  const auto logits =
      torch::from_blob(const_cast<float*>(outputs.data()), {data.train.rows, 10}, torch::kFloat);
  m.final_loss =
      F::cross_entropy(logits, tensor_of(data.train.labels, {data.train.rows}).to(torch::kLong))
          .item<double>();
  return m;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  // OpenBLAS reads its thread count when the library loads: set it and start again.
  const char* blas = std::getenv("OPENBLAS_NUM_THREADS");
  if (!blas || std::strcmp(blas, "1") != 0) {
    ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
    ::execv("/proc/self/exe", argv);
    std::perror("execv");
    return 1;
  }
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 200000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  torch::set_num_threads(1);
  const auto spec = workload(rows);
  auto loaded = load_training_data(spec, {});
  const auto& data = std::get<training_data>(loaded);
  auto checkpointing = spec;
  checkpointing.checkpoint.every_steps = 500;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("troupe-bench-training-" + std::to_string(::getpid()));

  std::printf("MLP 64-256-256-10, SGD momentum 0.9, batch 256, %lld rows, 1 epoch, 1 thread\n",
              static_cast<long long>(rows));
  std::printf("%-4s %-22s %12s %12s %10s %8s %8s\n", "run", "loop", "samples/s", "cpu samples/s",
              "final loss", "ratio", "cpu ratio");
  std::vector<double> trainer_ratio, trainer_cpu_ratio, checkpoint_ratio, checkpoint_cpu_ratio;
  measured best_plain, best_ours, best_saving;  // the fastest run of each, by CPU time
  int checkpoints = 0;
  double checkpoint_ms = 0.0;
  for (int run = 1; run <= runs; ++run) {
    // Each run starts with a different loop, so that a machine getting busier or quieter
    // during the runs does not favour one of them.
    measured plain, ours, saving;
    for (int k = 0; k < 3; ++k) {
      switch ((run - 1 + k) % 3) {
        case 0: plain = plain_loop(data, spec); break;
        case 1: ours = with_trainer(data, spec, dir.string(), nullptr, nullptr); break;
        case 2:
          saving = with_trainer(data, checkpointing, dir.string(), &checkpoints, &checkpoint_ms);
          break;
      }
    }
    auto line = [&](const char* name, const measured& m) {
      std::printf("%-4d %-22s %12.0f %12.0f %10.4f %8.3f %8.3f\n", run, name, m.wall, m.cpu,
                  m.final_loss, m.wall / plain.wall, m.cpu / plain.cpu);
    };
    line("plain libtorch", plain);
    line("trainer", ours);
    line("trainer + checkpoints", saving);
    for (auto [best, m] :
         {std::pair{&best_plain, &plain}, {&best_ours, &ours}, {&best_saving, &saving}}) {
      if (m->cpu > best->cpu) *best = *m;
    }
    trainer_ratio.push_back(ours.wall / plain.wall);
    trainer_cpu_ratio.push_back(ours.cpu / plain.cpu);
    checkpoint_ratio.push_back(saving.wall / plain.wall);
    checkpoint_cpu_ratio.push_back(saving.cpu / plain.cpu);
  }
  std::printf(
      "median ratio to the plain loop: trainer %.3f (cpu %.3f), with checkpoints %.3f "
      "(cpu %.3f); %d checkpoints, %.1f ms each to write\n",
      median(trainer_ratio), median(trainer_cpu_ratio), median(checkpoint_ratio),
      median(checkpoint_cpu_ratio), checkpoints, checkpoints ? checkpoint_ms / checkpoints : 0.0);
  std::printf(
      "best of %d runs by CPU time: plain %.0f, trainer %.0f (%.3f), with checkpoints "
      "%.0f (%.3f) samples per CPU second\n",
      runs, best_plain.cpu, best_ours.cpu, best_ours.cpu / best_plain.cpu, best_saving.cpu,
      best_saving.cpu / best_plain.cpu);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
