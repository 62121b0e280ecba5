// A rank process's link to its node daemon (docs/training.md): the rendezvous of its job
// attempt, its metrics, the artifacts of its job's tenant and the registration of its model,
// over the rank link socket with the key its node made for this attempt. Plain C++ (no torch, no
// actors); one thread uses one rank_link, and another thread of the same process may open its
// own (each has its own connection), e.g. to upload checkpoints in the background.
//
// Every call but the metrics blocks and throws rank_link_error when the cluster refuses (with
// the cluster's error code: notFound for an artifact that is not there) or does not answer in
// time. get waits until the key is set (any rank of the same round of the job may set it),
// bounded by its timeout. fetch_artifact and publish_artifact move files between the
// head and the node's artifact cache: bounded by transfer_timeout, after which the node answers
// `timeout` (reply_slack later the rank stops waiting). Step metrics are rate-limited here: at most
// `steps_per_second` reports a second leave; a step that comes sooner waits as the one to send next
// (a later one replaces it), so the last step always leaves, at the latest with the next epoch or
// flush().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cluster/security/credentials.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/error.hpp"
#include "messages/training.hpp"

namespace troupe::training {

struct rank_link_error : std::runtime_error {
  msg::error_code code;
  rank_link_error(msg::error_code c, const std::string& what) : std::runtime_error(what), code(c) {}
};

struct rank_link_options {
  double steps_per_second = 5;
  // A set or a model registration: the node gives up on the head after 30 s.
  std::chrono::milliseconds set_timeout{35'000};
  // How much longer than its own timeout a get waits for its answer (the node answers
  // `timeout` 5 s after it, when the head does not).
  std::chrono::milliseconds reply_slack{10'000};
  // A fetch or publish of a large file may take minutes; at most 1 h.
  std::chrono::milliseconds transfer_timeout{600'000};
};

// What task 0 of a train job registers its model with (docs/models.md); the head adds the
// name, tenant, job id and parameters from the job.
struct model_registration {
  std::string artifact_digest;  // a model artifact this job published
  std::string final_metrics_json;
  std::string best_metrics_json;
  std::string dataset_fingerprint;
  uint32_t input_features = 0;       // the model's values per input row
  std::vector<std::string> classes;  // a classifier's label of each output
};

class rank_link {
 public:
  // The rank link of this process's task attempt, as its environment names it
  // (TROUPE_RANK_LINK, TROUPE_ATTEMPT_ID); throws rank_link_error when there is none.
  static rank_link from_environment(const rank_link_options& options = {});
  // Reads the credential file (cluster/security/credentials.hpp) and connects.
  rank_link(const std::string& credential_path, std::string attempt_id,
            const rank_link_options& options = {});
  ~rank_link();
  rank_link(rank_link&&) = default;

  void set(const std::string& key, const std::vector<uint8_t>& value);
  std::vector<uint8_t> get(const std::string& key, std::chrono::milliseconds timeout);

  // A verified copy in the node's artifact cache: the latest version of `name`, or the version
  // with `digest`, or (name empty) the artifact with `digest`, of the job's tenant.
  msg::fetch_artifact_reply fetch_artifact(const std::string& name, const std::string& digest = "");
  // Bytes [offset, offset + length) of the same (cut at its end; length > 0), in a file of their
  // own on the node: the reply's path.
  msg::fetch_artifact_reply fetch_artifact_range(const std::string& name, const std::string& digest,
                                                 uint64_t offset, uint64_t length);
  // Uploads a regular file in this attempt's working directory (`path` absolute or relative
  // to it) as a version of `name` ("<job id>/..."), kind checkpoint or model.
  msg::artifact_info publish_artifact(const std::string& path, const std::string& name,
                                      msg::artifact_kind kind);
  // Asks the head to store the dataset `name` made of `parts` (datasets this job published, of
  // its tenant) joined in order, the header line once, and then to remove the parts
  // (docs/artifacts.md, "Assembling a dataset"); bounded by transfer_timeout.
  msg::artifact_info assemble_dataset(const std::string& name,
                                      const std::vector<msg::dataset_part>& parts);
  // Only task 0 of a train job; again for the same job: the same version.
  msg::register_model_reply register_model(const model_registration& model);

  void report_step(const msg::step_metric& step);
  void report_epoch(const msg::epoch_metric& epoch);  // sends it at once, after a waiting step
  void flush();                                       // sends a waiting step now

  const std::string& attempt_id() const { return attempt_id_; }

 private:
  rank_link(const security::credential& c, std::string attempt_id,
            const rank_link_options& options);
  msg::training_message call(msg::training_message m, std::chrono::milliseconds timeout);
  void send_report(msg::metrics_report report);

  std::string attempt_id_;
  rank_link_options options_;
  std::unique_ptr<transport::request_client> client_;
  std::optional<msg::step_metric> waiting_step_;
  std::chrono::steady_clock::time_point last_step_sent_{};
};

}  // namespace troupe::training
