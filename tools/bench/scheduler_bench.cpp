// troupe-bench-scheduler: the cost of the scheduler's decisions alone (no actors, no store),
// in the head's steady state: a cluster whose CPUs are all in use, N jobs queued behind them,
// and per cycle one task ending, one job submitted, schedule() after each.
//
//   troupe-bench-scheduler [N...]   (default: 10 100 1000 queued jobs)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "actors/scheduler/scheduler.hpp"

namespace {

using namespace troupe;
using clock_type = std::chrono::steady_clock;

// This thread's CPU time: on a busy machine the wall clock mostly shows the others' work.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct workload {
  const char* name;
  // The job submitted as the `i`th.
  scheduling::queued_job (*job)(uint64_t i, std::mt19937_64& random);
};

scheduling::queued_job one_cpu(uint64_t i, std::mt19937_64&) {
  scheduling::queued_job j;
  j.job_id = "job-" + std::to_string(i);
  j.tenant = i % 2 ? "a" : "b";
  j.order = i;
  return j;
}

// 1-4 CPUs, a quarter of them gangs of 2, one in eight with a GPU, three tenants.
scheduling::queued_job mixed(uint64_t i, std::mt19937_64& random) {
  scheduling::queued_job j = one_cpu(i, random);
  j.tenant = "t" + std::to_string(random() % 3);
  j.per_task.cpus = 1 + static_cast<double>(random() % 4);
  j.per_task.memory_mb = 512 * (random() % 4);
  j.per_task.gpus = random() % 8 == 0 ? 1 : 0;
  j.tasks = random() % 4 == 0 ? 2 : 1;
  return j;
}

void run(const workload& w, size_t queued, int cycles) {
  std::mt19937_64 random(7);
  scheduling::scheduler s;
  for (int n = 0; n < 3; ++n)
    s.update_node({"node-" + std::to_string(n), 16, 65536, {0, 1}, {}, true});
  std::vector<scheduling::placement> running;
  uint64_t submitted = 0;
  auto submit = [&] { s.enqueue(w.job(submitted++, random)); };
  auto take = [&](std::vector<scheduling::placement> placed) {
    running.insert(running.end(), placed.begin(), placed.end());
  };
  // Fill the cluster, then queue N behind it.
  for (size_t i = 0; i < 200 && s.status().ready == 0; ++i) {
    submit();
    take(s.schedule());
  }
  while (s.status().ready < queued) submit();
  take(s.schedule());

  uint64_t started = 0, calls = 0;
  const auto start = clock_type::now();
  const double cpu_start = cpu_seconds();
  for (int c = 0; c < cycles && !running.empty(); ++c) {
    const size_t victim = random() % running.size();
    for (uint32_t t = 0; t < running[victim].tasks.size(); ++t)
      s.release(running[victim].job_id, t);
    running[victim] = running.back();
    running.pop_back();
    auto placed = s.schedule();
    submit();
    auto more = s.schedule();
    calls += 2;
    started += placed.size() + more.size();
    take(std::move(placed));
    take(std::move(more));
  }
  const double cpu = cpu_seconds() - cpu_start;
  const double wall = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf(
      "%-6s %5zu queued: %6.2f us CPU per schedule() (%6.2f us wall), %7.0f jobs/s on one "
      "core (%llu jobs)\n",
      w.name, s.status().ready, cpu * 1e6 / static_cast<double>(calls),
      wall * 1e6 / static_cast<double>(calls), static_cast<double>(started) / cpu,
      static_cast<unsigned long long>(started));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 10));
  if (sizes.empty()) sizes = {10, 100, 1000};
  std::printf(
      "3 nodes of 16 CPUs and 2 GPUs, all in use; per cycle one job ends, one is "
      "submitted, schedule() after each\n");
  for (const workload& w : {workload{"1-cpu", one_cpu}, workload{"mixed", mixed}})
    for (size_t n : sizes) run(w, n, 20000);
}
