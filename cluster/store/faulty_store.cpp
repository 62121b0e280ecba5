#include "cluster/store/faulty_store.hpp"

namespace troupe::store {

faulty_store::faulty_store(std::shared_ptr<cluster_store> real) : real_(std::move(real)) {}

void faulty_store::set(mode m) {
  std::lock_guard<std::mutex> lock(mutex_);
  mode_ = m;
  changed_.notify_all();
}

bool faulty_store::wait_for_stalled_call(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, limit, [this] { return stalled_ > 0; });
}

size_t faulty_store::landed_batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return landed_;
}

void faulty_store::enter(std::unique_lock<std::mutex>& lock) {
  if (mode_ == mode::stalling) {
    ++stalled_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return mode_ != mode::stalling; });
    --stalled_;
  }
  if (mode_ == mode::failing) throw store_error("store " + name() + ": injected failure");
  if (mode_ == mode::lost) throw store_lost("store " + name() + ": injected loss of the data");
}

void faulty_store::apply(const std::vector<store_write>& writes) {
  std::unique_lock<std::mutex> lock(mutex_);
  enter(lock);
  real_->apply(writes);
  if (!writes.empty()) ++landed_;
}

std::vector<node_record> faulty_store::load_nodes() {
  return through([](cluster_store& real) { return real.membership().load_nodes(); });
}

std::vector<job_record> faulty_store::load_jobs() {
  return through([](cluster_store& real) { return real.jobs().load_jobs(); });
}

std::vector<attempt_record> faulty_store::load_attempts() {
  return through([](cluster_store& real) { return real.jobs().load_attempts(); });
}

std::vector<job_transition> faulty_store::load_transitions() {
  return through([](cluster_store& real) { return real.jobs().load_transitions(); });
}

std::map<std::string, uint64_t> faulty_store::count_jobs_by_state() {
  return through([](cluster_store& real) { return real.jobs().count_jobs_by_state(); });
}

std::vector<artifact_record> faulty_store::load_artifacts() {
  return through([](cluster_store& real) { return real.artifacts().load_artifacts(); });
}

model_registration faulty_store::register_version(const model_version_record& v) {
  return through([&](cluster_store& real) { return real.models().register_version(v); });
}

std::vector<model_version_record> faulty_store::load_versions(const std::string& model) {
  return through([&](cluster_store& real) { return real.models().load_versions(model); });
}

std::vector<model_stage_change> faulty_store::load_stage_changes(const std::string& model) {
  return through([&](cluster_store& real) { return real.models().load_stage_changes(model); });
}

std::vector<model_stage_change> faulty_store::change_stages(const std::string& model,
                                                            const stage_plan& plan) {
  return through([&](cluster_store& real) { return real.models().change_stages(model, plan); });
}

void faulty_store::append_metrics(const std::vector<metric_record>& rows, uint64_t keep_steps) {
  std::unique_lock<std::mutex> lock(mutex_);
  enter(lock);
  real_->metrics().append_metrics(rows, keep_steps);
  if (!rows.empty()) ++landed_;
}

std::vector<metric_record> faulty_store::load_metrics(const std::string& job_id, uint64_t after,
                                                      uint32_t limit) {
  return through(
      [&](cluster_store& real) { return real.metrics().load_metrics(job_id, after, limit); });
}

uint64_t faulty_store::last_metric_seq(const std::string& job_id) {
  return through([&](cluster_store& real) { return real.metrics().last_metric_seq(job_id); });
}

bool faulty_store::create_token(const app_token_record& token) {
  return through([&](cluster_store& real) { return real.tokens().create_token(token); });
}

std::vector<app_token_record> faulty_store::load_tokens() {
  return through([](cluster_store& real) { return real.tokens().load_tokens(); });
}

std::optional<app_token_record> faulty_store::revoke_token(const std::string& name, int64_t at_ms) {
  return through([&](cluster_store& real) { return real.tokens().revoke_token(name, at_ms); });
}

}  // namespace troupe::store
