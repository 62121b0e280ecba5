#include "nodes/predict/predict_task.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cluster/host/atomic_file.hpp"
#include "cluster/security/credentials.hpp"
#include "cluster/security/key_registry.hpp"
#include "cluster/training/rank_link/rank_link.hpp"
#include "nodes/predict/predict_rows.hpp"
#include "nodes/replica/replica_connection.hpp"
#include "nodes/replica/torch_model.hpp"

namespace troupe::predict {
namespace {

constexpr const char* model_key = "troupe.predict.model";
constexpr auto resolve_timeout = std::chrono::seconds(30);
// How long a bad row's task waits for each earlier task's row count (set as soon as that task
// fetched its share).
constexpr auto rows_told_wait = std::chrono::seconds(5);
// How long one wait for another task's part may take; a task waits again while the job runs
// (a failed task ends the whole round, this one included).
constexpr auto part_wait = std::chrono::minutes(10);

struct resolved_model {
  uint32_t version = 0;
  std::string digest;
  inference::model_signature signature;
};

nlohmann::json to_json(const resolved_model& m) {
  return {{"version", m.version},
          {"digest", m.digest},
          {"input_features", m.signature.input_features},
          {"outputs", models::to_string(m.signature.outputs)},
          {"classes", m.signature.classes}};
}

resolved_model model_from_json(const nlohmann::json& j) {
  resolved_model m;
  m.version = j.at("version").get<uint32_t>();
  m.digest = j.at("digest").get<std::string>();
  m.signature.input_features = j.at("input_features").get<uint32_t>();
  m.signature.outputs = *models::parse_output_kind(j.at("outputs").get<std::string>());
  m.signature.classes = j.at("classes").get<std::vector<std::string>>();
  return m;
}

resolved_model resolve(const task_environment& env) {
  replica::replica_connection connection(security::load_credential(env.link_path),
                                         "predict " + env.attempt_id, [] {});
  const auto answer = connection.call(
      msg::inference_message{msg::resolve_service_request{env.attempt_id}}, resolve_timeout);
  if (!answer) throw predict_failure("model: the node did not answer the model's resolution");
  if (const auto* e = std::get_if<msg::error>(&answer->body))
    throw predict_failure("model " + env.spec.model + " (" + msg::to_string(e->code) +
                          "): " + e->message);
  const auto* m = std::get_if<msg::inference_message>(&answer->body);
  const auto* r = m ? std::get_if<msg::resolve_service_reply>(&m->body) : nullptr;
  if (!r || r->versions.size() != 1)
    throw predict_failure("model: the head did not resolve " + env.spec.model + " to one version");
  const auto& v = r->versions.front();
  return {v.version, v.artifact_digest, v.signature};
}

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// Task 0 resolves; the others learn its answer.
resolved_model agreed_model(training::rank_link& link, const task_environment& env) {
  if (env.task == 0) {
    auto model = resolve(env);
    if (env.tasks > 1) link.set(model_key, bytes_of(to_json(model).dump()));
    return model;
  }
  const auto told = link.get(model_key, resolve_timeout * 2);
  return model_from_json(nlohmann::json::parse(told.begin(), told.end()));
}

// A file mapped read-only for the task's life.
class mapped_file {
 public:
  explicit mapped_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw predict_failure("input: cannot open the fetched dataset " + path);
    struct stat st {};
    ::fstat(fd, &st);
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (data_ == MAP_FAILED) throw predict_failure("input: cannot map the dataset " + path);
    if (size_ > 0) ::madvise(data_, size_, MADV_SEQUENTIAL);
  }
  ~mapped_file() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  std::string_view text() const {
    return data_ ? std::string_view(static_cast<const char*>(data_), size_) : std::string_view();
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// The first look at the input, and how much longer each next look is when it was too short.
constexpr uint64_t first_look_bytes = 64 * 1024;
constexpr uint64_t look_growth = 4;

// The input's header line and the version it is of: its first bytes, fetched until they hold a
// newline (or are all of it).
struct input_header {
  msg::artifact_info artifact;
  std::string line;  // without its newline
  uint64_t body_begin = 0;
};

input_header fetch_header(training::rank_link& link, const std::string& dataset) {
  input_header out;
  for (uint64_t length = first_look_bytes;; length *= look_growth) {
    const auto got = link.fetch_artifact_range(dataset, out.artifact.digest, 0, length);
    out.artifact = got.artifact;
    auto text = host::read_whole_file(got.path);
    const auto newline = text.find('\n');
    if (newline != std::string::npos || text.size() >= out.artifact.size) {
      out.line = text.substr(0, newline);
      out.body_begin = std::min<uint64_t>(out.line.size() + 1, out.artifact.size);
      return out;
    }
  }
}

std::string rows_key(uint32_t task) { return "troupe.predict.rows." + std::to_string(task); }

// How many bytes of its share a task fetches at a time: few enough that it scores its first rows
// while the rest arrive, enough that each fetch's round trips are a small part of its time.
constexpr uint64_t piece_bytes = 8 << 20;

// One piece of the task's bytes, mapped, and the lines it completes (views into it).
struct shard_piece {
  std::unique_ptr<mapped_file> file;
  shard_cutter::lines_of_piece lines;
};

// The task's lines (its share's bytes and the rest of its last line), fetched piece by piece by
// a thread with a rank link of its own while the task scores the pieces that came before. Once
// it has them all, a task but the last tells the others how many rows it has.
class shard_stream {
 public:
  shard_stream(const input_header& header, const task_environment& env)
      : header_(header),
        share_(share_of(header.body_begin, header.artifact.size, env.task, env.tasks)),
        env_(env),
        fetching_([this] { fetch_all(); }) {}
  ~shard_stream() {
    stop_ = true;
    fetching_.join();
  }
  shard_stream(const shard_stream&) = delete;
  shard_stream& operator=(const shard_stream&) = delete;

  // The task's bytes of the file.
  const byte_share& share() const { return share_; }

  // The next piece, once it is here; nullopt after the last. Throws what stopped the fetching.
  std::optional<shard_piece> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_.wait(lock, [&] { return !pieces_.empty() || finished_; });
    if (pieces_.empty()) {
      if (failure_) std::rethrow_exception(failure_);
      return std::nullopt;
    }
    auto piece = std::move(pieces_.front());
    pieces_.pop_front();
    return piece;
  }

 private:
  void fetch_all() {
    try {
      auto link = training::rank_link::from_environment();
      const auto& artifact = header_.artifact;
      shard_cutter cutter(share_, header_.body_begin, artifact.size);
      uint64_t rows = 0;
      while (!cutter.done() && !stop_) {
        const auto offset = cutter.next_offset();
        const auto length = std::min(piece_bytes, artifact.size - offset);
        const auto got = link.fetch_artifact_range(artifact.name, artifact.digest, offset, length);
        shard_piece piece{std::make_unique<mapped_file>(got.path), {}};
        if (piece.file->text().size() != length)
          throw predict_failure("input: the node fetched " +
                                std::to_string(piece.file->text().size()) + " bytes at offset " +
                                std::to_string(offset) + ", not " + std::to_string(length));
        piece.lines = cutter.next(piece.file->text());
        rows += piece.lines.rows;
        std::lock_guard<std::mutex> lock(mutex_);
        pieces_.push_back(std::move(piece));
        arrived_.notify_one();
      }
      if (!stop_ && env_.task + 1 < env_.tasks)
        link.set(rows_key(env_.task), bytes_of(std::to_string(rows)));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      failure_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    arrived_.notify_one();
  }

  const input_header& header_;
  const byte_share share_;
  const task_environment& env_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<shard_piece> pieces_;
  bool finished_ = false;
  std::exception_ptr failure_;
  std::thread fetching_;  // last: it starts once the rest is made
};

// The rows of the tasks before this one, as each told after it found its lines: for a bad row's
// line number. nullopt when one did not tell in time, or told no number.
std::optional<uint64_t> rows_before(training::rank_link& link, const task_environment& env) {
  uint64_t rows = 0;
  for (uint32_t task = 0; task < env.task; ++task) {
    std::vector<uint8_t> told;
    try {
      told = link.get(rows_key(task), rows_told_wait);
    } catch (const training::rank_link_error&) {
      return std::nullopt;
    }
    uint64_t n = 0;
    const auto* text = reinterpret_cast<const char*>(told.data());
    const auto parsed = std::from_chars(text, text + told.size(), n);
    if (parsed.ec != std::errc() || parsed.ptr != text + told.size()) return std::nullopt;
    rows += n;
  }
  return rows;
}

// A bad row's line in the file; when an earlier task did not say how many rows it has, its place
// among this task's rows.
std::string line_named(training::rank_link& link, const task_environment& env, const bad_row& e) {
  if (const auto before = rows_before(link, env))
    return "line " + std::to_string(e.line + *before) + e.detail;
  return "row " + std::to_string(e.line - 1) + " of task " + std::to_string(env.task) + "'s share" +
         e.detail;
}

std::string part_name(const task_environment& env, uint32_t task) {
  return env.job_id + "/part-" + std::to_string(task);
}

std::string part_key(uint32_t task) { return "troupe.predict.part." + std::to_string(task); }

// Task 0's wait for task `task`'s part: its digest, once published.
std::string part_digest(training::rank_link& link, uint32_t task) {
  for (;;) {
    try {
      const auto told = link.get(part_key(task), part_wait);
      return {told.begin(), told.end()};
    } catch (const training::rank_link_error& e) {
      if (e.code != msg::error_code::timeout) throw;
    }
  }
}

double seconds_since(std::chrono::steady_clock::time_point& mark) {
  const auto now = std::chrono::steady_clock::now();
  const std::chrono::duration<double> took = now - mark;
  mark = now;
  return took.count();
}

}  // namespace

task_outcome run_task(const task_environment& env) {
  task_outcome outcome;
  auto mark = std::chrono::steady_clock::now();
  auto link = training::rank_link::from_environment();
  const auto model = agreed_model(link, env);
  const auto header = fetch_header(link, env.spec.input_dataset);
  shard_stream shard(header, env);
  const auto model_file = link.fetch_artifact("", model.digest);
  outcome.model_version = model.version;
  outcome.fetch_s = seconds_since(mark);

  auto read = read_header(header.line, env.spec.id_column, env.spec.features);
  if (auto* why = std::get_if<std::string>(&read)) throw predict_failure("input: " + *why);
  const auto& layout = std::get<csv_layout>(read);
  if (layout.feature_count != model.signature.input_features)
    throw predict_failure("input: " + env.spec.model + " (version " +
                          std::to_string(model.version) + ") takes " +
                          std::to_string(model.signature.input_features) +
                          " features, the dataset gives " + std::to_string(layout.feature_count));

  replica::set_torch_threads(env.threads);
  const auto forward =
      replica::load_torchscript(model_file.path, model.signature, inference::serve_device::cpu);
  const auto features = model.signature.input_features;
  const auto probe = forward(std::vector<float>(features, 0.f), 1);
  const auto columns = columns_for(model.signature.outputs != models::output_kind::values,
                                   probe.output_count, model.signature.classes);

  const std::string out_path = "part.csv";
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << header_line(columns);
  std::vector<float> batch;
  std::vector<std::string_view> ids;
  std::string scored;
  const auto started = std::chrono::steady_clock::now();
  const auto share_bytes = static_cast<double>(shard.share().end - shard.share().begin);
  uint64_t done = 0, rows_here = 0, bytes_here = 0;  // rows scored; in the pieces come so far
  double waited_s = 0;                               // for pieces still on their way
  const auto report = [&](double rows) {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    link.report_step({0, done, rows, 0,
                      took.count() > 0 ? static_cast<double>(done) / took.count() : 0,
                      security::unix_now_ms()});
  };
  for (;;) {
    auto asked = std::chrono::steady_clock::now();
    const auto piece = shard.next();
    waited_s += seconds_since(asked);
    if (!piece) break;
    const auto& cut = piece->lines;
    rows_here += cut.rows;
    bytes_here += piece->file->text().size();
    // The shard's rows, as far as the bytes come so far tell.
    const double rows_expected =
        static_cast<double>(rows_here) * share_bytes / static_cast<double>(bytes_here);
    for (const std::string_view text :
         {std::string_view(cut.head), cut.lines, std::string_view(cut.tail)}) {
      // Numbered as if the task's first row were the file's first; a bad row's is made right.
      row_reader rows(layout, text, 2 + done);
      while (!rows.done()) {
        batch.clear();
        ids.clear();
        scored.clear();
        size_t n = 0;
        try {
          n = rows.read(env.spec.batch_rows, batch, ids);
        } catch (const bad_row& e) {
          throw predict_failure(line_named(link, env, e));
        }
        const auto output = forward(batch, static_cast<uint32_t>(n));
        append_rows(columns, ids, output.outputs, scored);
        out << scored;
        done += n;
        report(std::max(rows_expected, static_cast<double>(done)));
      }
    }
  }
  report(static_cast<double>(done));  // its last: every row scored (an empty shard too)
  link.flush();
  out.close();
  if (!out) throw predict_failure("output: cannot write " + out_path);
  outcome.rows = done;
  outcome.score_s = seconds_since(mark) - waited_s;
  outcome.fetch_s += waited_s;

  if (env.tasks == 1) {
    link.publish_artifact(out_path, env.spec.output_dataset, msg::artifact_kind::dataset);
    outcome.publish_s = seconds_since(mark);
    return outcome;
  }
  const auto part =
      link.publish_artifact(out_path, part_name(env, env.task), msg::artifact_kind::dataset);
  if (env.task != 0) {
    link.set(part_key(env.task), bytes_of(part.digest));
  } else {
    std::vector<msg::dataset_part> parts{{part.name, part.digest}};
    for (uint32_t task = 1; task < env.tasks; ++task)
      parts.push_back({part_name(env, task), part_digest(link, task)});
    link.assemble_dataset(env.spec.output_dataset, parts);
  }
  outcome.publish_s = seconds_since(mark);
  return outcome;
}

}  // namespace troupe::predict
