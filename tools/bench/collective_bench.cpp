// troupe-bench-collective: what the gradient exchange costs a data-parallel training step.
// Workload: MLP 64->256->256->10, ReLU, cross-entropy, SGD lr 0.05 momentum 0.9, batch 256 per
// rank, CPU, one torch thread and OPENBLAS_NUM_THREADS=1 per process, each rank its own
// process (as in a train job), Gloo over loopback. Printed, all from the same run:
//   plain       one process, a plain libtorch step: the per-rank limit
//   plain x2    two such processes at once: what this machine's cores give two ranks
//   reducer     two ranks averaging gradients through gradient_reducer (default 25 MiB
//               buckets: one bucket here; and 64 KiB buckets: two, the first overlapping
//               backward), as samples/s over both ranks and as ratios to the limits above
//   raw         two ranks doing only the Gloo all-reduce of the flattened gradients
//
//   troupe-bench-collective [--steps N]   (default 2000 timed steps after 100 warm-up)
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "cluster/training/collective/gradient_reducer.hpp"

extern char** environ;

namespace {

using namespace troupe::training;
using clock_type = std::chrono::steady_clock;

constexpr int64_t batch = 256;
constexpr int warmup_steps = 100;
constexpr int64_t small_bucket_bytes = 64 << 10;

// What one child process runs; `bucket_bytes` only for "reducer".
struct child_run {
  std::string mode;  // plain | reducer | raw
  int rank = 0;
  int world_size = 1;
  int steps = 0;
  int64_t bucket_bytes = gradient_reducer::default_bucket_bytes;
  std::string directory;  // rendezvous files and the result
};

torch::nn::Sequential mlp() {
  return torch::nn::Sequential(torch::nn::Linear(64, 256), torch::nn::ReLU(),
                               torch::nn::Linear(256, 256), torch::nn::ReLU(),
                               torch::nn::Linear(256, 10));
}

std::unique_ptr<communicator> join(const child_run& run) {
  gloo_options options;
  options.rank = run.rank;
  options.world_size = run.world_size;
  return make_gloo_communicator(std::make_shared<directory_rendezvous>(run.directory), options);
}

// Seconds for `run.steps` steps, after the warm-up; ranks start and stop together.
double run_child(const child_run& run) {
  torch::set_num_threads(1);
  torch::manual_seed(run.rank);
  const at::Tensor features = torch::randn({8, batch, 64});
  const at::Tensor labels = torch::randint(0, 10, {8, batch});
  auto model = mlp();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  std::unique_ptr<communicator> group = run.mode == "plain" ? nullptr : join(run);
  single_rank_sync alone;
  std::unique_ptr<gradient_reducer> reducer;
  if (run.mode == "reducer") {
    reducer = std::make_unique<gradient_reducer>(model->parameters(), *group, run.bucket_bytes);
    reducer->broadcast_parameters(model->parameters());
  }
  gradient_sync& sync = reducer ? static_cast<gradient_sync&>(*reducer) : alone;
  int64_t gradient_elements = 0;
  for (const auto& parameter : model->parameters()) gradient_elements += parameter.numel();
  at::Tensor flat = torch::ones({gradient_elements});

  auto step = [&](int i) {
    if (run.mode == "raw") {
      group->all_reduce_sum(flat)->wait();
      return;
    }
    optimizer.zero_grad();
    at::Tensor loss =
        torch::nn::functional::cross_entropy(model->forward(features[i % 8]), labels[i % 8]);
    sync.before_backward();
    loss.backward();
    sync.after_backward();
    optimizer.step();
  };
  for (int i = 0; i < warmup_steps; ++i) step(i);
  if (group) group->barrier();
  const auto start = clock_type::now();
  for (int i = 0; i < run.steps; ++i) step(i);
  if (group) group->barrier();
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::string result_path(const std::string& directory, int rank) {
  return directory + "/result-" + std::to_string(rank);
}

int child_main(const child_run& run) {
  try {
    const double seconds = run_child(run);
    std::ofstream(result_path(run.directory, run.rank)) << seconds << "\n";
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s rank %d: %s\n", run.mode.c_str(), run.rank, error.what());
    return 1;
  }
}

// Runs `world_size` children of one mode at once, each a fresh process of this program with one
// BLAS thread; returns the slowest rank's seconds.
double run_processes(const std::string& mode, int world_size, int steps, int64_t bucket_bytes,
                     const std::string& self) {
  const auto directory = std::filesystem::temp_directory_path() /
                         ("troupe-bench-collective-" + std::to_string(::getpid()) + "-" + mode +
                          std::to_string(bucket_bytes));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  std::vector<std::string> environment{"OPENBLAS_NUM_THREADS=1"};
  for (char** entry = environ; *entry; ++entry)
    if (std::strncmp(*entry, "OPENBLAS_NUM_THREADS=", 21) != 0) environment.emplace_back(*entry);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);

  std::vector<pid_t> children;
  for (int rank = 0; rank < world_size; ++rank) {
    std::vector<std::string> args{self,
                                  "--child",
                                  mode,
                                  std::to_string(rank),
                                  std::to_string(world_size),
                                  std::to_string(steps),
                                  std::to_string(bucket_bytes),
                                  directory.string()};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) {
      std::perror("posix_spawn");
      std::exit(1);
    }
    children.push_back(pid);
  }
  bool failed = false;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    failed = failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  double slowest = 0;
  for (int rank = 0; rank < world_size && !failed; ++rank) {
    double seconds = 0;
    std::ifstream(result_path(directory.string(), rank)) >> seconds;
    slowest = std::max(slowest, seconds);
  }
  std::filesystem::remove_all(directory);
  if (failed) {
    std::fprintf(stderr, "the %s run failed\n", mode.c_str());
    std::exit(1);
  }
  return slowest;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--child") == 0) {
    if (argc != 8) return 2;
    return child_main({argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]),
                       std::atoll(argv[6]), argv[7]});
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int steps = 2000;
  if (argc == 3 && std::strcmp(argv[1], "--steps") == 0) steps = std::atoi(argv[2]);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const double samples = static_cast<double>(steps) * batch;
  auto rate = [&](double seconds, int ranks) { return samples * ranks / seconds; };

  std::printf("MLP 64-256-256-10, batch %lld per rank, %d steps, one thread per process\n",
              static_cast<long long>(batch), steps);
  const double plain = rate(run_processes("plain", 1, steps, 0, self), 1);
  std::printf("plain        1 process          %9.0f samples/s\n", plain);
  const double plain_pair = rate(run_processes("plain", 2, steps, 0, self), 2);
  std::printf("plain x2     2 processes at once %8.0f samples/s   %.2f of twice plain\n",
              plain_pair, plain_pair / (2 * plain));
  for (int64_t bucket_bytes :
       {int64_t{gradient_reducer::default_bucket_bytes}, small_bucket_bytes}) {
    const double reduced = rate(run_processes("reducer", 2, steps, bucket_bytes, self), 2);
    std::printf(
        "reducer      2 ranks, %5lld KiB buckets %7.0f samples/s   %.2f of twice plain, "
        "%.2f of plain x2\n",
        static_cast<long long>(bucket_bytes >> 10), reduced, reduced / (2 * plain),
        reduced / plain_pair);
  }
  const double raw_seconds = run_processes("raw", 2, steps, 0, self);
  std::printf(
      "raw          2 ranks, all-reduce of the flat gradients: %.0f us each, %.2f of a "
      "plain step's time\n",
      raw_seconds / steps * 1e6, raw_seconds / steps / (batch / plain));
  return 0;
}
