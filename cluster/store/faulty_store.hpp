// A fault seam for tests: a cluster_store that forwards to a real one until a test switches
// it to fail (every call throws store_error, as with a full disk or a stopped server), to
// stall (every call blocks until the test switches again, as with a hung server), or to lose
// its data (store_lost), and back to working. It counts the transactions that landed.
// Thread-safe: the test switches it while the store's thread calls it.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

#include "cluster/store/store.hpp"

namespace troupe::store {

class faulty_store final : public cluster_store,
                           public membership_store,
                           public jobs_store,
                           public artifacts_store,
                           public models_store,
                           public metrics_store,
                           public tokens_store {
 public:
  enum class mode { working, failing, stalling, lost };

  explicit faulty_store(std::shared_ptr<cluster_store> real);

  void set(mode m);
  // Waits (at most `limit`) until a call is blocked in the stall; returns whether one is.
  bool wait_for_stalled_call(std::chrono::milliseconds limit);
  // Non-empty batches (apply, append_metrics) that landed in the real store.
  size_t landed_batches() const;

  membership_store& membership() override { return *this; }
  jobs_store& jobs() override { return *this; }
  artifacts_store& artifacts() override { return *this; }
  models_store& models() override { return *this; }
  metrics_store& metrics() override { return *this; }
  tokens_store& tokens() override { return *this; }
  void apply(const std::vector<store_write>& writes) override;
  std::vector<node_record> load_nodes() override;
  std::vector<job_record> load_jobs() override;
  std::vector<attempt_record> load_attempts() override;
  std::vector<job_transition> load_transitions() override;
  std::map<std::string, uint64_t> count_jobs_by_state() override;
  std::vector<artifact_record> load_artifacts() override;
  model_registration register_version(const model_version_record& v) override;
  std::vector<model_version_record> load_versions(const std::string& model) override;
  std::vector<model_stage_change> load_stage_changes(const std::string& model) override;
  std::vector<model_stage_change> change_stages(const std::string& model,
                                                const stage_plan& plan) override;
  void append_metrics(const std::vector<metric_record>& rows, uint64_t keep_steps) override;
  std::vector<metric_record> load_metrics(const std::string& job_id, uint64_t after,
                                          uint32_t limit) override;
  uint64_t last_metric_seq(const std::string& job_id) override;
  bool create_token(const app_token_record& token) override;
  std::vector<app_token_record> load_tokens() override;
  std::optional<app_token_record> revoke_token(const std::string& name, int64_t at_ms) override;
  const std::string& name() const override { return real_->name(); }

 private:
  // Fails, stalls or lets the call through, as the mode says.
  void enter(std::unique_lock<std::mutex>& lock);
  // A read of the real store, once the mode lets it through.
  template <class Read>
  auto through(Read read) {
    std::unique_lock<std::mutex> lock(mutex_);
    enter(lock);
    return read(*real_);
  }

  std::shared_ptr<cluster_store> real_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  mode mode_ = mode::working;
  size_t stalled_ = 0;
  size_t landed_ = 0;
};

}  // namespace troupe::store
