// A rank process's link to its node daemon (docs/training.md): the rendezvous of its job
// attempt and its metrics, over the rank link socket with the key its node made for this attempt.
// Plain C++ (no torch, no actors); one thread uses one rank_link.
//
// set() and get() block: get waits until the key is set (any rank of the same round of the job
// may set it), bounded by its timeout; both throw rank_link_error when the cluster refuses or
// does not answer in time. Step metrics are rate-limited here: at most `steps_per_second`
// reports a second leave; a step that comes sooner waits as the one to send next (a later one
// replaces it), so the last step always leaves, at the latest with the next epoch or flush().
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
  std::chrono::milliseconds set_timeout{35'000};  // the node gives up on the head after 30 s
  // How much longer than its own timeout a get waits for its answer (the node answers
  // `timeout` 5 s after it, when the head does not).
  std::chrono::milliseconds reply_slack{10'000};
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
