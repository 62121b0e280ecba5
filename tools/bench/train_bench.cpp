// troupe-bench-train: the training workload (tools/bench/training_workload.hpp; 200,000 rows,
// batch 256 per rank, 1 epoch, one thread per rank) through real `train` jobs on a local
// cluster (a head with no worker of its own and two nodes of one CPU each), each figure beside
// its peer measured in the same run.
//
//   troupe-bench-train [throughput] [recovery] [--runs N] [--rows N] [--kill-at-step S]
//                      [--victim-rank R] [--python PATH]              (default: both, 3 runs)
//
//   throughput  each run, in a different order: a plain one-thread libtorch loop in this
//               process; two of them at once on two threads (what two one-thread ranks can get
//               from this machine, whose cores share caches, memory and clock); a 1-rank job; a
//               1-rank job with a checkpoint every 500 steps; a 2-rank job (one rank per node);
//               PyTorch's own DDP (ddp_peer.py: 2 processes, gloo, one thread each) on the same
//               rows, written to a file for it. Samples/s of a job come from its step metrics (each
//               rank's own timestamps, every 50 steps): from step 50 to the last multiple of 50,
//               summed over ranks; every peer leaves its start-up out the same way
//               (tools/bench/training_workload.hpp). Final loss: the trained model's mean
//               cross-entropy over all rows (a job's: rank 0's exported model.pt).
//   recovery    a 2-rank job of 3 epochs with a checkpoint every 500 steps and a spare third
//               node; once a rank reports step S (700), kill -9 the node daemon of rank R (0):
//               time from the kill to the retried gang's first step report, and the steps lost
//               (the step at the kill less the step the retry starts from).
#include <signal.h>

#include <torch/script.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/security/key_registry.hpp"
#include "cluster/training/dataset.hpp"
#include "cluster/training/trainer.hpp"
#include "tools/bench/train_cluster.hpp"
#include "tools/bench/training_workload.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace {

using namespace troupe;
using namespace std::chrono_literals;
using bench::cpu_sampler;
using bench::is_final;
using bench::steps_by_attempt;
using bench::train_cluster;
using nlohmann::json;

const int64_t report_every = training::trainer_options{}.report_every_steps;

struct options {
  int runs = 3;
  int64_t rows = 200000;
  int64_t kill_at_step = 700;
  uint32_t victim_rank = 0;
  std::string python = "/usr/bin/python3";
};

// The workload as a train job's spec: `world_size` ranks of one CPU.
json job_spec(const training::train_spec& workload, int world_size, int64_t epochs,
              int64_t checkpoint_every_steps) {
  const auto& synthetic = *workload.data.synthetic;
  return {
      {"name", "bench-train"},
      {"kind", "train"},
      {"world_size", world_size},
      {"resources", {{"cpus", 1}}},
      {"model", {{"type", "mlp"}, {"layers", workload.model.layers}, {"activation", "relu"}}},
      {"task", "classification"},
      {"data",
       {{"synthetic",
         {{"rows", synthetic.rows},
          {"features", synthetic.features},
          {"classes", synthetic.classes},
          {"seed", synthetic.seed}}}}},
      {"optimizer",
       {{"name", "sgd"}, {"lr", workload.optimizer.lr}, {"momentum", workload.optimizer.momentum}}},
      {"epochs", epochs},
      {"batch_size", workload.batch_size},
      {"seed", workload.seed},
      {"checkpoint",
       {{"every_steps", checkpoint_every_steps}, {"every_epoch", false}, {"keep", 3}}},
      {"retries", {{"max", 2}, {"backoff_s", 0}}}};
}

// The mean cross-entropy over `rows` of an exported model.pt (which takes raw features).
double exported_model_loss(const std::string& path, const training::dataset& rows) {
  auto module = torch::jit::load(path);
  torch::NoGradGuard no_grad;
  const auto x = torch::from_blob(const_cast<float*>(rows.features.data()),
                                  {rows.rows, rows.columns()}, torch::kFloat);
  const auto logits = module.forward({x}).toTensor().contiguous();
  return bench::mean_cross_entropy(
      {logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel()}, rows);
}

// A train job of the workload run to its end: steady samples/s over its ranks, and the loss of
// rank 0's exported model over all rows.
bench::measured train_job(train_cluster& tc, const training::train_spec& workload,
                          const training::dataset& rows, int world_size,
                          int64_t checkpoint_every_steps) {
  const auto id =
      tc.submit(job_spec(workload, world_size, workload.epochs, checkpoint_every_steps));
  cpu_sampler cpu;
  const auto j = tc.wait_until_ended(id, 600s, [&](const auto& seen) { cpu.sample(seen); });
  if (j.job.state != "SUCCEEDED" || j.job.attempts != 1)
    throw std::runtime_error("job " + id + " ended " + j.job.state + " after " +
                             std::to_string(j.job.attempts) + " attempt(s): " + j.job.reason +
                             "\n" + tc.cluster().dump_logs());
  bench::measured m;
  std::vector<bench::steady_window> ranks;
  for (const auto& [attempt, steps] : steps_by_attempt(tc.all_metrics(id), &cpu))
    ranks.push_back(bench::steady_window_of(steps, workload.batch_size));
  m.steady = bench::throughput_of(ranks);
  for (const auto& a : j.attempts)
    if (a.task_index == 0) m.final_loss = exported_model_loss(tc.workdir(a) + "/model.pt", rows);
  return m;
}

bench::measured pytorch_ddp(const options& o, const std::string& features,
                            const std::string& labels, const training::train_spec& workload) {
  const auto result =
      local::run_command({o.python,         local::binary("ddp_peer.py"),
                          features,         labels,
                          "--rows",         std::to_string(o.rows),
                          "--features",     std::to_string(workload.data.synthetic->features),
                          "--world-size",   "2",
                          "--batch",        std::to_string(workload.batch_size),
                          "--lr",           std::to_string(workload.optimizer.lr),
                          "--momentum",     std::to_string(workload.optimizer.momentum),
                          "--seed",         std::to_string(workload.seed),
                          "--report-every", std::to_string(report_every)},
                         600s);
  auto out = result.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const auto last_line = out.substr(out.find_last_of('\n') + 1);  // npos + 1 is 0
  if (result.exit_code != 0 || last_line.empty())
    throw std::runtime_error("ddp_peer.py failed (exit " + std::to_string(result.exit_code) +
                             "):\n" + result.err);
  const auto j = json::parse(last_line);
  bench::measured m;
  m.steady = {j.at("samples_per_s").get<double>(), j.at("samples_per_cpu_s").get<double>()};
  m.final_loss = j.at("final_loss").get<double>();
  return m;
}

enum peer { plain, two_plain, one_rank, one_rank_checkpoints, two_ranks, ddp, peers };

const char* name_of(int p) {
  switch (p) {
    case plain: return "plain libtorch loop, 1 thread";
    case two_plain: return "2 plain loops at once, 1 thread each";
    case one_rank: return "train job, 1 rank";
    case one_rank_checkpoints: return "train job, 1 rank, checkpoint every 500";
    case two_ranks: return "train job, 2 ranks";
    case ddp: return "PyTorch DDP, 2 processes, gloo";
  }
  return "";
}

void bench_throughput(const options& o) {
  const auto workload = bench::training_workload(o.rows);
  // Each rank of the 2-rank job reports at least twice: a window to measure.
  const int64_t least_rows = 2 * 2 * report_every * workload.batch_size;
  if (o.rows < least_rows)
    throw std::runtime_error("throughput needs --rows " + std::to_string(least_rows) + " or more");
  auto loaded = training::load_training_data(workload, {});
  if (auto* error = std::get_if<msg::error>(&loaded)) throw std::runtime_error(error->message);
  const auto& data = std::get<training::training_data>(loaded);
  train_cluster tc(2);
  const auto features = tc.cluster().root() + "/features.f32",
             labels = tc.cluster().root() + "/labels.i64";
  bench::write_standardized_rows(data, features, labels);

  std::printf(
      "train jobs vs their peers: MLP 64-256-256-10, SGD momentum 0.9, batch 256 per rank, "
      "%lld rows, 1 epoch, 1 thread per rank, %s; steady samples/s (step %lld to the last "
      "multiple of %lld)\n",
      static_cast<long long>(o.rows), bench::blas_kernels().c_str(),
      static_cast<long long>(report_every), static_cast<long long>(report_every));
  // Each figure as a ratio to its peer of the same run, by wall clock and by CPU time.
  struct figure {
    const char* name;
    const char* target;
    int ours, peer;
    double peer_factor;  // the peer's samples/s counts this many times (2 x plain)
    std::vector<double> wall, cpu;
  };
  std::vector<figure> figures = {
      {"2-rank job / PyTorch DDP", ">= 1.25", two_ranks, ddp, 1, {}, {}},
      {"2-rank job / (2 x plain loop)", ">= 0.90", two_ranks, plain, 2, {}, {}},
      {"2-rank job / 2 plain loops at once", "none (the limit)", two_ranks, two_plain, 1, {}, {}},
      {"2 plain loops at once / (2 x plain loop)",
       "none (the machine)",
       two_plain,
       plain,
       2,
       {},
       {}},
      {"1-rank job / plain loop", ">= 0.95", one_rank, plain, 1, {}, {}},
      {"1-rank job with checkpoints / without",
       ">= 0.95",
       one_rank_checkpoints,
       one_rank,
       1,
       {},
       {}}};
  std::vector<double> loss_vs_ddp;
  auto print_figure = [](const char* name, double wall, double cpu, const char* target) {
    std::printf("  %-40s x%.3f  (per CPU second x%.3f)   target %s\n", name, wall, cpu, target);
  };
  auto print_loss = [](double percent) {
    std::printf("  %-40s %+.2f %%   target within 2 %%\n", "2-rank job's final loss vs DDP's",
                percent);
  };
  for (int run = 1; run <= o.runs; ++run) {
    std::printf("run %d (load %s)\n", run, bench::load_average().c_str());
    bench::measured m[peers];
    // Each run starts with another peer, so that a machine getting busier or quieter during
    // the runs does not favour one of them.
    for (int k = 0; k < peers; ++k) {
      switch ((run - 1 + k) % peers) {
        case plain: m[plain] = bench::plain_loop(data, workload); break;
        case two_plain: m[two_plain] = bench::plain_loops_at_once(data, workload, 2); break;
        case one_rank: m[one_rank] = train_job(tc, workload, data.train, 1, 0); break;
        case one_rank_checkpoints:
          m[one_rank_checkpoints] = train_job(tc, workload, data.train, 1, 500);
          break;
        case two_ranks: m[two_ranks] = train_job(tc, workload, data.train, 2, 0); break;
        case ddp: m[ddp] = pytorch_ddp(o, features, labels, workload); break;
      }
    }
    std::printf("  %-40s %10s %12s %11s\n", "", "samples/s", "per CPU-s", "final loss");
    for (int p = 0; p < peers; ++p)
      std::printf("  %-40s %10.0f %12.0f %11.4f\n", name_of(p), m[p].steady.samples_per_s,
                  m[p].steady.samples_per_cpu_s, m[p].final_loss);
    for (auto& f : figures) {
      const auto &ours = m[f.ours].steady, &peer = m[f.peer].steady;
      f.wall.push_back(ours.samples_per_s / (f.peer_factor * peer.samples_per_s));
      f.cpu.push_back(ours.samples_per_cpu_s / peer.samples_per_cpu_s);
      print_figure(f.name, f.wall.back(), f.cpu.back(), f.target);
    }
    loss_vs_ddp.push_back((m[two_ranks].final_loss / m[ddp].final_loss - 1) * 100);
    print_loss(loss_vs_ddp.back());
  }
  std::printf("medians of %d runs (load now %s):\n", o.runs, bench::load_average().c_str());
  for (const auto& f : figures)
    print_figure(f.name, bench::median(f.wall), bench::median(f.cpu), f.target);
  print_loss(bench::median(loss_vs_ddp));
}

// The recovery job: 3 epochs (1,173 steps of the 200,000 rows), a checkpoint every 500 steps.
constexpr int64_t recovery_epochs = 3, recovery_checkpoint_every = 500;

struct step_seen {
  std::string attempt_id;
  int64_t step = 0;
  int64_t at_ms = 0;
};

void recovery_run(const options& o, const training::train_spec& workload) {
  train_cluster tc(3);  // the third node takes the killed node's rank
  const auto id = tc.submit(job_spec(workload, 2, recovery_epochs, recovery_checkpoint_every));
  // Which attempts belong to the first round, and where they run.
  std::map<std::string, msg::attempt_info> attempts;
  auto learn_attempts = [&] {
    for (const auto& a : tc.job(id).attempts) attempts[a.attempt_id] = a;
  };
  std::vector<msg::metric_entry> entries;
  uint64_t after = 0;
  const auto deadline = std::chrono::steady_clock::now() + 600s;
  auto reached = [&] {
    for (const auto& e : entries)
      if (const auto* s = std::get_if<msg::step_metric>(&e.metric))
        if (static_cast<int64_t>(s->step) >= o.kill_at_step) return true;
    return false;
  };
  while (!reached()) {
    if (std::chrono::steady_clock::now() > deadline || is_final(tc.job(id).job.state))
      throw std::runtime_error("no rank reached step " + std::to_string(o.kill_at_step));
    std::this_thread::sleep_for(20ms);
    auto more = tc.metrics(id, after);
    entries.insert(entries.end(), more.begin(), more.end());
  }
  learn_attempts();
  std::string victim;
  for (const auto& [attempt_id, a] : attempts)
    if (a.attempt == 1 && a.task_index == o.victim_rank) victim = a.node_name;
  if (victim.empty()) throw std::runtime_error("no first attempt of the victim rank");
  const int64_t killed_at = security::unix_now_ms();
  tc.cluster().node(victim).signal(SIGKILL);
  tc.cluster().node(victim).wait_exit(10s);
  const bool dead = tc.cluster().wait_for_state(victim, "dead", 30s);
  const int64_t dead_at = security::unix_now_ms();
  const auto j = tc.wait_until_ended(id, 600s);
  learn_attempts();
  const auto all = tc.all_metrics(id);
  const auto orphans = local::processes_with("TROUPE_JOB_ID=" + id);
  for (const pid_t pid : orphans) ::kill(pid, SIGKILL);

  // The last report before the kill, the first after it, and each round's step time.
  std::optional<step_seen> last_before, first_after;
  for (const auto& e : all) {
    const auto* s = std::get_if<msg::step_metric>(&e.metric);
    if (!s) continue;
    const step_seen seen{e.attempt_id, static_cast<int64_t>(s->step), s->at_ms};
    const bool first_round = attempts[e.attempt_id].attempt == 1;
    if (first_round && s->at_ms <= killed_at && (!last_before || seen.step > last_before->step))
      last_before = seen;
    if (!first_round && (!first_after || seen.at_ms < first_after->at_ms)) first_after = seen;
  }
  const auto steps = steps_by_attempt(all);
  auto step_ms = [&](const std::string& attempt) {
    const auto window = bench::steady_window_of(steps.at(attempt), 1);
    return window.samples > 0 ? window.seconds * 1e3 / static_cast<double>(window.samples) : 0.0;
  };
  int64_t restarted_at = 0;
  for (const auto& [attempt_id, a] : attempts)
    if (a.attempt == 2 && (restarted_at == 0 || a.started_at_ms < restarted_at))
      restarted_at = a.started_at_ms;

  std::printf(
      "recovery (2 ranks, %lld epochs, checkpoint every %lld steps, kill -9 rank %u's node %s "
      "once a rank reported step %lld; load %s)\n",
      static_cast<long long>(recovery_epochs), static_cast<long long>(recovery_checkpoint_every),
      o.victim_rank, victim.c_str(), static_cast<long long>(o.kill_at_step),
      bench::load_average().c_str());
  std::printf("  job %s %s after %u attempts; %zu of its processes left after it ended\n",
              id.c_str(), j.job.state.c_str(), j.job.attempts, orphans.size());
  if (!last_before) throw std::runtime_error("no step report before the kill");
  const double before_ms = step_ms(last_before->attempt_id);
  const double killed_step =
      static_cast<double>(last_before->step) +
      (before_ms > 0 ? static_cast<double>(killed_at - last_before->at_ms) / before_ms : 0.0);
  std::printf(
      "  before the kill: last report step %lld, %lld ms before it; %.2f ms a step, so killed "
      "at step ~%.0f\n",
      static_cast<long long>(last_before->step),
      static_cast<long long>(killed_at - last_before->at_ms), before_ms, killed_step);
  std::printf(
      "  kill -> node %s seen dead (polled with the CLI) %s %.2f s; -> retried ranks started %.2f "
      "s\n",
      victim.c_str(), dead ? "at" : "NOT seen within 30 s, gave up at", (dead_at - killed_at) / 1e3,
      restarted_at ? (restarted_at - killed_at) / 1e3 : -1.0);
  if (!first_after) {
    std::printf("  no step report after the kill\n");
    return;
  }
  const int64_t resumed_from = first_after->step - report_every;
  const double after_ms = step_ms(first_after->attempt_id);
  std::printf(
      "  kill -> first step report after it (step %lld) %.2f s; the retry's first step ~%.2f s "
      "(less %lld steps at %.2f ms)   (target <= 10 s)\n",
      static_cast<long long>(first_after->step), (first_after->at_ms - killed_at) / 1e3,
      (static_cast<double>(first_after->at_ms - killed_at) -
       static_cast<double>(report_every) * after_ms) /
          1e3,
      static_cast<long long>(report_every), after_ms);
  std::printf(
      "  the retry started at step %lld: %.0f steps lost   (target <= one checkpoint interval, "
      "%lld)\n",
      static_cast<long long>(resumed_from), killed_step - static_cast<double>(resumed_from),
      static_cast<long long>(recovery_checkpoint_every));
}

void bench_recovery(const options& o) {
  const auto workload = bench::training_workload(o.rows);
  const int64_t steps_per_epoch =
      ((o.rows + 1) / 2 + workload.batch_size - 1) / workload.batch_size;
  if (o.kill_at_step >= recovery_epochs * steps_per_epoch)
    throw std::runtime_error("--kill-at-step: the job has only " +
                             std::to_string(recovery_epochs * steps_per_epoch) + " steps");
  for (int run = 1; run <= o.runs; ++run) {
    std::printf("run %d: ", run);
    recovery_run(o, workload);
  }
}

int usage() {
  std::fprintf(stderr,
               "usage: troupe-bench-train [throughput] [recovery] [--runs N] [--rows N] "
               "[--kill-at-step S] [--victim-rank 0|1] [--python PATH]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bench::run_with_the_tasks_blas_settings(argv);
  options o;
  std::set<std::string> modes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "throughput" || a == "recovery") {
      modes.insert(a);
    } else if (a == "--runs" && has_value) {
      o.runs = std::atoi(argv[++i]);
    } else if (a == "--rows" && has_value) {
      o.rows = std::atoll(argv[++i]);
    } else if (a == "--kill-at-step" && has_value) {
      o.kill_at_step = std::atoll(argv[++i]);
    } else if (a == "--victim-rank" && has_value) {
      o.victim_rank = static_cast<uint32_t>(std::atoi(argv[++i]));
    } else if (a == "--python" && has_value) {
      o.python = argv[++i];
    } else {
      return usage();
    }
  }
  if (o.runs < 1 || o.rows < 1 || o.victim_rank > 1) return usage();
  if (modes.empty()) modes = {"throughput", "recovery"};
  ::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it comes, also into a file
  torch::set_num_threads(1);
  try {
    if (modes.count("throughput")) bench_throughput(o);
    if (modes.count("recovery")) bench_recovery(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-bench-train: %s\n", e.what());
    return 1;
  }
  return 0;
}
