// The training benchmarks' common ground (troupe-bench-training, troupe-bench-train): the
// issue's workload — MLP 64→256→256→10, ReLU, cross-entropy, SGD lr 0.05 momentum 0.9, 64
// synthetic features and 10 classes, batch 256, 1 epoch, one thread — and the plain libtorch
// loop that Troupe is measured against. No torch in this header.
//
// "Steady" samples/s leave start-up out the same way for every peer: from the end of the
// first step whose number is a multiple of the trainer's report interval (50) to the end of
// the last such step, the window a train job's step metrics span.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/training/dataset.hpp"
#include "cluster/training/train_spec.hpp"

namespace troupe::bench {

training::train_spec training_workload(int64_t rows);

// OpenBLAS reads its thread count and kernels when the library loads: unless
// OPENBLAS_NUM_THREADS is 1 and OPENBLAS_CORETYPE is set as the runner sets it for tasks
// (cluster/runner/blas_kernels.hpp; one the caller set stays), sets them and executes the
// program again. So the plain loops in this process and the peers it starts run on the kernels
// a node's tasks run on.
void run_with_the_tasks_blas_settings(char** argv);

// The kernels OpenBLAS chose for this CPU ("OpenBLAS Prescott"; OPENBLAS_CORETYPE overrides its
// choice and reaches every peer through the environment), or "BLAS other than OpenBLAS".
std::string blas_kernels();

double wall_seconds();  // steady clock
double process_cpu_seconds();
std::string load_average();  // /proc/loadavg: 1, 5 and 15 minutes

// When a step ended, by the wall clock (any clock, the same for all of one rank's steps) and
// by the CPU time its process had spent then.
struct step_time {
  int64_t step = 0;
  double seconds = 0.0;
  double cpu_seconds = 0.0;
};

// One rank's steady window: from the first to the last of its `steps` (in step order).
struct steady_window {
  int64_t samples = 0;
  double seconds = 0.0;
  double cpu_seconds = 0.0;
};

steady_window steady_window_of(const std::vector<step_time>& steps, int64_t samples_per_step);

struct throughput {
  double samples_per_s = 0.0;      // the ranks' samples/s added up
  double samples_per_cpu_s = 0.0;  // all their samples over all their CPU time (0: not known)
};

throughput throughput_of(const std::vector<steady_window>& ranks);

struct measured {
  double wall = 0.0;  // samples/s over the whole epoch
  double cpu = 0.0;   // samples per second of this process's CPU time
  throughput steady;
  double final_loss = 0.0;
};

// What a person writes with libtorch alone: shuffle, index, forward, loss, backward, step, on
// the standardised training rows. `final_loss` is the model's mean cross-entropy over all
// training rows after the epoch.
measured plain_loop(const training::training_data& data, const training::train_spec& spec);

// `loops` plain loops on threads of this process at once, as the ranks of a
// local cluster run side by side:
// the samples/s the machine gives that many one-thread loops (its cores, caches and memory
// shared). Samples/s add up; per CPU second and final loss are the loops' (each on its thread's
// CPU time).
measured plain_loops_at_once(const training::training_data& data, const training::train_spec& spec,
                             int loops);

// Writes the rows plain_loop trains on for a peer in another process: the standardised training
// features (float32, row-major) to `features_path` and the labels (int64) to `labels_path`,
// both in this machine's byte order. Throws std::runtime_error when a file cannot be written.
void write_standardized_rows(const training::training_data& data, const std::string& features_path,
                             const std::string& labels_path);

// The mean cross-entropy of `logits` (rows × classes, row-major) against `rows`' labels.
double mean_cross_entropy(const std::vector<float>& logits, const training::dataset& rows);

double median(std::vector<double> values);

}  // namespace troupe::bench
