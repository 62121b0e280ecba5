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
#include <unistd.h>

#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cluster/training/checkpoint.hpp"
#include "cluster/training/gradient_sync.hpp"
#include "cluster/training/trainer.hpp"
#include "tools/bench/training_workload.hpp"

namespace {

using namespace troupe::training;
using troupe::bench::measured;
using troupe::bench::process_cpu_seconds;
using troupe::bench::wall_seconds;

// What the checkpoints of the runs cost: the blobs written (their files fsynced) and, once per
// run after training, the time the trainer takes to make one (serialise and checksum).
struct checkpoint_costs {
  int written = 0;
  double write_ms = 0.0;
  int made = 0;
  double make_ms = 0.0;
};

measured with_trainer(const training_data& data, const train_spec& spec,
                      const std::string& checkpoint_dir, checkpoint_costs* costs) {
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
  if (costs) {
    callbacks.on_checkpoint = [&](const std::string& blob, int64_t step) {
      const double start = wall_seconds();
      directory.save(blob, step);
      costs->write_ms += (wall_seconds() - start) * 1e3;
      ++costs->written;
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
  m.final_loss = troupe::bench::mean_cross_entropy(t.predict(data.train), data.train);
  if (costs) {
    const double start = wall_seconds();
    (void)t.checkpoint();
    costs->make_ms += (wall_seconds() - start) * 1e3;
    ++costs->made;
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  troupe::bench::run_with_the_tasks_blas_settings(argv);
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 200000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  torch::set_num_threads(1);
  const auto spec = troupe::bench::training_workload(rows);
  auto loaded = load_training_data(spec, {});
  const auto& data = std::get<training_data>(loaded);
  auto checkpointing = spec;
  checkpointing.checkpoint.every_steps = 500;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("troupe-bench-training-" + std::to_string(::getpid()));

  std::printf("MLP 64-256-256-10, SGD momentum 0.9, batch 256, %lld rows, 1 epoch, 1 thread, %s\n",
              static_cast<long long>(rows), troupe::bench::blas_kernels().c_str());
  std::printf("%-4s %-22s %12s %12s %10s %8s %8s\n", "run", "loop", "samples/s", "cpu samples/s",
              "final loss", "ratio", "cpu ratio");
  std::vector<double> trainer_ratio, trainer_cpu_ratio, checkpoint_ratio, checkpoint_cpu_ratio;
  measured best_plain, best_ours, best_saving;  // the fastest run of each, by CPU time
  checkpoint_costs costs;
  for (int run = 1; run <= runs; ++run) {
    // Each run starts with a different loop, so that a machine getting busier or quieter
    // during the runs does not favour one of them.
    measured plain, ours, saving;
    for (int k = 0; k < 3; ++k) {
      switch ((run - 1 + k) % 3) {
        case 0: plain = troupe::bench::plain_loop(data, spec); break;
        case 1: ours = with_trainer(data, spec, dir.string(), nullptr); break;
        case 2: saving = with_trainer(data, checkpointing, dir.string(), &costs); break;
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
      "(cpu %.3f); %d checkpoints, %.1f ms each to make, %.1f ms each to write\n",
      troupe::bench::median(trainer_ratio), troupe::bench::median(trainer_cpu_ratio),
      troupe::bench::median(checkpoint_ratio), troupe::bench::median(checkpoint_cpu_ratio),
      costs.written, costs.made ? costs.make_ms / costs.made : 0.0,
      costs.written ? costs.write_ms / costs.written : 0.0);
  std::printf(
      "best of %d runs by CPU time: plain %.0f, trainer %.0f (%.3f), with checkpoints "
      "%.0f (%.3f) samples per CPU second\n",
      runs, best_plain.cpu, best_ours.cpu, best_ours.cpu / best_plain.cpu, best_saving.cpu,
      best_saving.cpu / best_plain.cpu);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
