// troupe-bench-predict: a `predict` job scoring 1 M rows of 52 features (generated, put with
// `troupe data put`) with the TorchScript MLP 52→256→256→10 of troupe-bench-serve (made by
// PyTorch, imported with `troupe model register`) on a local cluster (a head with no worker of
// its own and one node of one CPU per task), against a plain libtorch loop in this process over
// the same CSV: read and parse its rows, forward them in batches of the same size, write the
// same result CSV, with as many torch threads as the job has tasks.
//
//   troupe-bench-predict [--rows N] [--tasks T] [--batch-rows B] [--python PATH]
//                        (default 1000000 rows, one task per core, 4096 rows a batch)
//
// Printed: the job's rows/s from its submission to its success (the tasks fetch the dataset and
// the model, score their shards, and the head assembles the result from their parts: its time
// is printed as the head logged it), the plain loop's
// rows/s, and their ratio (goal >= 0.8). Putting the dataset is not counted.
#include <torch/script.h>
#include <torch/utils.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/bench/serving_mlp.hpp"
#include "tools/bench/train_cluster.hpp"
#include "tools/bench/training_workload.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace {

using namespace troupe;
using namespace std::chrono_literals;

constexpr int features = bench::serving_mlp_features;
constexpr const char* model_name = "txn-mlp";

struct options {
  int64_t rows = 1'000'000;
  int tasks = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int batch_rows = 4096;
  std::string python = "/usr/bin/python3";
};

// `rows` rows of `id,f0..f51`, values of 4 decimals from a fixed seed.
void write_dataset(const std::string& path, int64_t rows) {
  std::mt19937 random(11);
  std::normal_distribution<float> value(0, 1);
  std::ofstream out(path, std::ios::binary);
  std::string line = "id";
  for (int f = 0; f < features; ++f) line += ",f" + std::to_string(f);
  out << line << "\n";
  char buffer[32];
  for (int64_t r = 0; r < rows; ++r) {
    line = "r" + std::to_string(r);
    for (int f = 0; f < features; ++f) {
      const auto written =
          std::to_chars(buffer, buffer + sizeof buffer, value(random), std::chars_format::fixed, 4);
      line += ',';
      line.append(buffer, written.ptr);
    }
    line += '\n';
    out << line;
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

void append_float(float v, std::string& out) {
  char buffer[32];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, v).ptr);
}

// One thread's part of the plain loop: parse, forward and write the lines of `text`.
int64_t plain_part(torch::jit::script::Module& module, int batch_rows, std::string_view text,
                   std::string& out) {
  torch::NoGradGuard no_grad;
  std::vector<float> batch;
  std::vector<std::string_view> ids;
  int64_t rows = 0;
  size_t at = 0;
  while (at < text.size()) {
    batch.clear();
    ids.clear();
    while (static_cast<int>(ids.size()) < batch_rows && at < text.size()) {
      auto end = text.find('\n', at);
      if (end == std::string_view::npos) end = text.size();
      const auto line = text.substr(at, end - at);
      at = end + 1;
      const auto comma = line.find(',');
      ids.push_back(line.substr(0, comma));
      const char* field = line.data() + comma + 1;
      for (int f = 0; f < features; ++f) {
        float v = 0;
        field = std::from_chars(field, line.data() + line.size(), v).ptr + 1;
        batch.push_back(v);
      }
    }
    const auto n = static_cast<int64_t>(ids.size());
    auto probabilities =
        module.forward({torch::from_blob(batch.data(), {n, features}, torch::kFloat32)})
            .toTensor()
            .contiguous();
    const float* p = probabilities.data_ptr<float>();
    for (int64_t r = 0; r < n; ++r, p += 10) {
      out += ids[static_cast<size_t>(r)];
      out += ",c" + std::to_string(std::max_element(p, p + 10) - p);
      for (int c = 0; c < 10; ++c) {
        out += ',';
        append_float(p[c], out);
      }
      out += '\n';
    }
    rows += n;
  }
  return rows;
}

// The plain loop: rows/s of read + parse + forward + write over the CSV at `path`, its lines
// split into one contiguous range per task, each on a thread of its own with one torch thread
// (the job's tasks have a CPU each).
double plain_loop(const options& o, const std::string& model_file, const std::string& path,
                  const std::string& result) {
  torch::set_num_threads(1);
  auto module = torch::jit::load(model_file);
  module.eval();
  const auto start = bench::wall_seconds();
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto body = std::string_view(text).substr(text.find('\n') + 1);
  std::vector<size_t> cuts{0};
  for (int t = 1; t < o.tasks; ++t) {
    const auto cut =
        body.find('\n', body.size() * static_cast<size_t>(t) / static_cast<size_t>(o.tasks));
    cuts.push_back(cut == std::string_view::npos ? body.size() : cut + 1);
  }
  cuts.push_back(body.size());
  std::vector<std::string> outs(static_cast<size_t>(o.tasks));
  std::vector<int64_t> rows(static_cast<size_t>(o.tasks));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < outs.size(); ++t)
    threads.emplace_back([&, t] {
      rows[t] =
          plain_part(module, o.batch_rows, body.substr(cuts[t], cuts[t + 1] - cuts[t]), outs[t]);
    });
  for (auto& t : threads) t.join();
  std::ofstream out(result, std::ios::binary);
  out << "id,prediction";
  for (int c = 0; c < 10; ++c) out << ",p_c" << c;
  out << "\n";
  for (const auto& part : outs) out << part;
  out.close();
  int64_t total = 0;
  for (auto n : rows) total += n;
  return static_cast<double>(total) / (bench::wall_seconds() - start);
}

struct job_figures {
  double rows_per_s = 0;
  double seconds = 0;
  int64_t result_rows = 0;
};

job_figures predict_job(const options& o, const std::string& model_file, const std::string& path,
                        const std::string& result) {
  bench::train_cluster cluster(o.tasks);
  auto& c = cluster.cluster();
  const auto registered = c.troupe({"model", "register", model_name, model_file, "--input-features",
                                    std::to_string(features), "--classes",
                                    bench::serving_mlp_classes, "--outputs", "probabilities"});
  if (registered.exit_code != 0) throw std::runtime_error("model register: " + registered.err);
  const auto put_start = bench::wall_seconds();
  const auto put = c.troupe({"data", "put", path, "--name", "rows"});
  if (put.exit_code != 0) throw std::runtime_error("data put: " + put.err);
  std::printf("data put: %.1f s (not counted)\n", bench::wall_seconds() - put_start);
  const auto start = bench::wall_seconds();
  const auto id = cluster.submit({{"name", "bench-predict"},
                                  {"kind", "predict"},
                                  {"model", model_name},
                                  {"input", {{"dataset", "rows"}}},
                                  {"output", {{"dataset", "scores"}}},
                                  {"tasks", o.tasks},
                                  {"batch_rows", o.batch_rows},
                                  {"resources", {{"cpus", 1}}}});
  const auto ended = cluster.wait_until_ended(id, 1800s);
  job_figures f;
  f.seconds = bench::wall_seconds() - start;
  if (ended.job.state != "SUCCEEDED")
    throw std::runtime_error("predict job " + id + " " + ended.job.state + ": " + ended.job.reason +
                             "\n" + c.dump_logs());
  f.rows_per_s = static_cast<double>(o.rows) / f.seconds;
  for (int task = 0; task < o.tasks; ++task)
    std::printf("  %s", c.troupe({"logs", id, "--task", std::to_string(task)}).out.c_str());
  // How long the head took to assemble the result from the parts, as it logged it.
  std::istringstream head_log(c.head().log());
  for (std::string line; std::getline(head_log, line);)
    if (line.find("artifacts: assembled") != std::string::npos)
      std::printf("  head: %s\n", line.substr(line.find("assembled")).c_str());
  const auto got = c.troupe({"data", "get", "scores", result});
  if (got.exit_code != 0) throw std::runtime_error("data get: " + got.err);
  std::ifstream in(result, std::ios::binary);
  f.result_rows = std::count(std::istreambuf_iterator<char>(in), {}, '\n') - 1;
  return f;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--rows") {
      o.rows = std::stoll(argv[i + 1]);
    } else if (a == "--tasks") {
      o.tasks = std::stoi(argv[i + 1]);
    } else if (a == "--batch-rows") {
      o.batch_rows = std::stoi(argv[i + 1]);
    } else if (a == "--python") {
      o.python = argv[i + 1];
    } else {
      throw std::invalid_argument(
          "usage: troupe-bench-predict [--rows N] [--tasks T] [--batch-rows B] [--python PATH]");
    }
  }
  if (argc % 2 == 0) throw std::invalid_argument("every option takes a value");
  if (o.rows < 1 || o.tasks < 1 || o.tasks > 256 || o.batch_rows < 1 || o.batch_rows > 65536)
    throw std::invalid_argument("--rows from 1, --tasks 1 to 256, --batch-rows 1 to 65536");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bench::run_with_the_tasks_blas_settings(argv);
    const auto o = parse(argc, argv);
    char pattern[] = "/tmp/troupe-bench-predict-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    const std::string dir = pattern;
    const auto model = dir + "/mlp.pt";
    bench::make_serving_mlp(o.python, model);
    const auto data = dir + "/rows.csv";
    write_dataset(data, o.rows);
    std::printf(
        "troupe-bench-predict: %lld rows x %d features (%.0f MB), MLP 52-256-256-10 softmax, "
        "%d tasks of 1 CPU, batches of %d rows, load average %s\n",
        static_cast<long long>(o.rows), features,
        static_cast<double>(std::filesystem::file_size(data)) / 1e6, o.tasks, o.batch_rows,
        bench::load_average().c_str());
    const auto plain = plain_loop(o, model, data, dir + "/plain.csv");
    std::printf("plain libtorch loop (%d threads of 1 torch thread): %.0f rows/s\n", o.tasks,
                plain);
    const auto job = predict_job(o, model, data, dir + "/scores.csv");
    std::printf("predict job: %.0f rows/s (%.1f s from submit to success), %lld rows fetched\n",
                job.rows_per_s, job.seconds, static_cast<long long>(job.result_rows));
    std::printf("ratio %.2f (goal >= 0.8), load average %s\n", job.rows_per_s / plain,
                bench::load_average().c_str());
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return job.result_rows == o.rows ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-bench-predict: %s\n", e.what());
    return 1;
  }
}
