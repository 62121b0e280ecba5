#include "tools/bench/training_workload.hpp"

#include <dlfcn.h>
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
#include <fstream>
#include <stdexcept>
#include <thread>

#include "cluster/runner/blas_kernels.hpp"
#include "cluster/training/trainer.hpp"

namespace troupe::bench {
namespace {

namespace F = torch::nn::functional;

double cpu_seconds_of(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

at::Tensor tensor_of(const std::vector<float>& values, at::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat).clone();
}

// The training rows standardised as the trainer does it.
at::Tensor standardized_features(const training::training_data& data) {
  const int64_t rows = data.train.rows, width = data.train.columns();
  return (tensor_of(data.train.features, {rows, width}) - tensor_of(data.stats.mean, {width})) /
         tensor_of(data.stats.std, {width});
}

at::Tensor labels_of(const training::dataset& rows) {
  return tensor_of(rows.labels, {rows.rows}).to(torch::kLong);
}

void write_tensor(const at::Tensor& tensor, const std::string& path) {
  const auto contiguous = tensor.contiguous();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(contiguous.data_ptr()),
            static_cast<std::streamsize>(contiguous.nbytes()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

training::train_spec training_workload(int64_t rows) {
  training::train_spec spec;
  spec.model.layers = {64, 256, 256, 10};
  spec.data.synthetic = training::synthetic_data{rows, 64, 10, 1};
  spec.optimizer.lr = 0.05;
  spec.optimizer.momentum = 0.9;
  spec.epochs = 1;
  spec.batch_size = 256;
  spec.seed = 42;
  spec.checkpoint.every_epoch = false;
  return spec;
}

void run_with_the_tasks_blas_settings(char** argv) {
  bool again = false;
  const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
  if (!threads || std::strcmp(threads, "1") != 0) {
    ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
    again = true;
  }
  const auto& core = runner::openblas_core_type_for_this_cpu();
  if (!core.empty() && !std::getenv(runner::openblas_core_type_variable)) {
    ::setenv(runner::openblas_core_type_variable, core.c_str(), 1);
    again = true;
  }
  if (!again) return;
  ::execv("/proc/self/exe", argv);
  std::perror("execv");
  std::exit(1);
}

std::string blas_kernels() {
  // Looked up at run time: OpenBLAS is reached through libtorch, never linked here.
  using corename_function = char* (*)();
  const auto corename =
      reinterpret_cast<corename_function>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!corename) return "BLAS other than OpenBLAS";
  return std::string("OpenBLAS ") + corename();
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double process_cpu_seconds() { return cpu_seconds_of(CLOCK_PROCESS_CPUTIME_ID); }

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

steady_window steady_window_of(const std::vector<step_time>& steps, int64_t samples_per_step) {
  if (steps.size() < 2) return {};
  const auto& first = steps.front();
  const auto& last = steps.back();
  return {(last.step - first.step) * samples_per_step, last.seconds - first.seconds,
          last.cpu_seconds - first.cpu_seconds};
}

throughput throughput_of(const std::vector<steady_window>& ranks) {
  throughput t;
  int64_t samples = 0;
  double cpu_seconds = 0.0;
  for (const auto& rank : ranks) {
    if (rank.seconds > 0.0) t.samples_per_s += static_cast<double>(rank.samples) / rank.seconds;
    samples += rank.samples;
    cpu_seconds += rank.cpu_seconds;
  }
  if (cpu_seconds > 0.0) t.samples_per_cpu_s = static_cast<double>(samples) / cpu_seconds;
  return t;
}

namespace {

// plain_loop, its CPU time read from `cpu_clock` (the process's, or the calling thread's when
// several loops share the process).
measured plain_loop_timed_by(const training::training_data& data, const training::train_spec& spec,
                             clockid_t cpu_clock) {
  const int64_t rows = data.train.rows;
  const auto x = standardized_features(data);
  const auto y = labels_of(data.train);
  const int64_t report_every = training::trainer_options{}.report_every_steps;
  torch::manual_seed(spec.seed);
  torch::nn::Sequential net(torch::nn::Linear(64, 256), torch::nn::ReLU(),
                            torch::nn::Linear(256, 256), torch::nn::ReLU(),
                            torch::nn::Linear(256, 10));
  torch::optim::SGD optimizer(
      net->parameters(),
      torch::optim::SGDOptions(spec.optimizer.lr).momentum(spec.optimizer.momentum));
  std::vector<step_time> reports;
  const double wall = wall_seconds(), cpu = cpu_seconds_of(cpu_clock);
  const auto order = torch::randperm(rows, torch::kLong);
  int64_t step = 0;
  for (int64_t start = 0; start < rows; start += spec.batch_size) {
    const auto index = order.narrow(0, start, std::min(spec.batch_size, rows - start));
    optimizer.zero_grad();
    auto loss = F::cross_entropy(net->forward(x.index_select(0, index)), y.index_select(0, index));
    loss.backward();
    optimizer.step();
    if (++step % report_every == 0)
      reports.push_back({step, wall_seconds(), cpu_seconds_of(cpu_clock)});
  }
  measured m;
  m.wall = static_cast<double>(rows) / (wall_seconds() - wall);
  m.cpu = static_cast<double>(rows) / (cpu_seconds_of(cpu_clock) - cpu);
  m.steady = throughput_of({steady_window_of(reports, spec.batch_size)});
  torch::NoGradGuard no_grad;
  net->eval();
  m.final_loss = F::cross_entropy(net->forward(x), y).item<double>();
  return m;
}

}  // namespace

measured plain_loop(const training::training_data& data, const training::train_spec& spec) {
  return plain_loop_timed_by(data, spec, CLOCK_PROCESS_CPUTIME_ID);
}

measured plain_loops_at_once(const training::training_data& data, const training::train_spec& spec,
                             int loops) {
  std::vector<measured> each(static_cast<size_t>(loops));
  std::vector<std::thread> threads;
  for (auto& m : each)
    threads.emplace_back(
        [&data, &spec, &m] { m = plain_loop_timed_by(data, spec, CLOCK_THREAD_CPUTIME_ID); });
  for (auto& t : threads) t.join();
  measured sum;
  double cpu_seconds = 0;
  for (const auto& m : each) {
    sum.wall += m.wall;
    sum.steady.samples_per_s += m.steady.samples_per_s;
    cpu_seconds += 1 / m.steady.samples_per_cpu_s;  // CPU seconds per sample of each loop
    sum.final_loss += m.final_loss / loops;
  }
  sum.steady.samples_per_cpu_s = loops / cpu_seconds;
  return sum;
}

void write_standardized_rows(const training::training_data& data, const std::string& features_path,
                             const std::string& labels_path) {
  write_tensor(standardized_features(data), features_path);
  write_tensor(labels_of(data.train), labels_path);
}

double mean_cross_entropy(const std::vector<float>& logits, const training::dataset& rows) {
  const auto classes = static_cast<int64_t>(logits.size()) / rows.rows;
  const auto outputs =
      torch::from_blob(const_cast<float*>(logits.data()), {rows.rows, classes}, torch::kFloat);
  return F::cross_entropy(outputs, labels_of(rows)).item<double>();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace troupe::bench
