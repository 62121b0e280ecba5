#include "nodes/predict/predict_task.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

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
  replica::replica_connection connection(
      security::load_credential(env.link_path), "predict " + env.attempt_id,
      [](const msg::envelope&) {}, [] {});
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
  const auto dataset = link.fetch_artifact(env.spec.input_dataset);
  const auto model_file = link.fetch_artifact("", model.digest);
  outcome.model_version = model.version;
  outcome.fetch_s = seconds_since(mark);

  const mapped_file file(dataset.path);
  const auto text = file.text();
  const auto header_end = text.find('\n');
  auto read = read_header(text.substr(0, header_end), env.spec.id_column, env.spec.features);
  if (auto* why = std::get_if<std::string>(&read)) throw predict_failure("input: " + *why);
  const auto& layout = std::get<csv_layout>(read);
  if (layout.feature_count != model.signature.input_features)
    throw predict_failure("input: " + env.spec.model + " (version " +
                          std::to_string(model.version) + ") takes " +
                          std::to_string(model.signature.input_features) +
                          " features, the dataset gives " + std::to_string(layout.feature_count));
  const auto body =
      header_end == std::string_view::npos ? std::string_view() : text.substr(header_end + 1);
  const auto mine = find_shard(body, env.task, env.tasks);

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
  row_reader rows(layout, body.substr(mine.begin, mine.end - mine.begin), mine.first_row + 2);
  std::vector<float> batch;
  std::vector<std::string_view> ids;
  std::string scored;
  const auto started = std::chrono::steady_clock::now();
  uint64_t done = 0;
  while (!rows.done()) {
    batch.clear();
    ids.clear();
    scored.clear();
    const auto n = rows.read(env.spec.batch_rows, batch, ids);
    const auto output = forward(batch, static_cast<uint32_t>(n));
    append_rows(columns, ids, output.outputs, scored);
    out << scored;
    done += n;
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    link.report_step({0, done, static_cast<double>(mine.rows), 0,
                      took.count() > 0 ? static_cast<double>(done) / took.count() : 0,
                      security::unix_now_ms()});
  }
  if (!mine.rows)
    link.report_step({0, 0, 0, 0, 0, security::unix_now_ms()});  // an empty shard is done too
  link.flush();
  out.close();
  if (!out) throw predict_failure("output: cannot write " + out_path);
  outcome.rows = done;
  outcome.score_s = seconds_since(mark);

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
