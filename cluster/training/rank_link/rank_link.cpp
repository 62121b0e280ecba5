#include "cluster/training/rank_link/rank_link.hpp"

#include <algorithm>
#include <cstdlib>

#include "cluster/security/credentials.hpp"
#include "cluster/security/rank_link.hpp"

namespace troupe::training {
namespace {

// Closing the link still delivers the last metrics for this long (they are never answered).
constexpr int close_linger_ms = 2000;

security::credential load(const std::string& credential_path) {
  try {
    return security::load_credential(credential_path);
  } catch (const security::security_error& e) {
    throw rank_link_error(msg::error_code::invalid_request, e.what());
  }
}

// The reply of kind `Reply`; `what` names the request for the error.
template <class Reply>
Reply expect(msg::training_message reply, const char* what) {
  auto* got = std::get_if<Reply>(&reply.body);
  if (!got)
    throw rank_link_error(msg::error_code::internal,
                          std::string("an unexpected answer to ") + what);
  return std::move(*got);
}

// The node bounds a transfer by what the rank waits: 1 ms to 1 h.
uint32_t transfer_ms(std::chrono::milliseconds timeout) {
  return static_cast<uint32_t>(std::clamp<int64_t>(timeout.count(), 1, 3'600'000));
}

}  // namespace

rank_link rank_link::from_environment(const rank_link_options& options) {
  const char* path = std::getenv(security::rank_link_variable);
  const char* attempt = std::getenv("TROUPE_ATTEMPT_ID");
  if (!path || !attempt)
    throw rank_link_error(msg::error_code::invalid_request,
                          std::string("no rank link: ") + security::rank_link_variable +
                              " and TROUPE_ATTEMPT_ID are set only for a task that is a rank");
  return rank_link(path, attempt, options);
}

rank_link::rank_link(const std::string& credential_path, std::string attempt_id,
                     const rank_link_options& options)
    : rank_link(load(credential_path), std::move(attempt_id), options) {}

rank_link::rank_link(const security::credential& c, std::string attempt_id,
                     const rank_link_options& options)
    : attempt_id_(std::move(attempt_id)),
      options_(options),
      client_(std::make_unique<transport::request_client>(
          c.head_address, "rank " + attempt_id_, security::client_keys(c), close_linger_ms)) {}

rank_link::~rank_link() {
  if (!client_) return;  // moved from
  try {
    flush();
  } catch (const std::exception&) {  // a destructor reports nothing; the link is going away
  }
}

msg::training_message rank_link::call(msg::training_message m, std::chrono::milliseconds timeout) {
  auto reply = client_->call(std::move(m), timeout);
  if (!reply)
    throw rank_link_error(msg::error_code::timeout, "no answer from the node's rank link within " +
                                                        std::to_string(timeout.count()) + " ms");
  if (auto* e = std::get_if<msg::error>(&reply->body)) throw rank_link_error(e->code, e->message);
  if (auto* t = std::get_if<msg::training_message>(&reply->body)) return std::move(*t);
  throw rank_link_error(msg::error_code::internal, "an unexpected answer from the rank link");
}

void rank_link::set(const std::string& key, const std::vector<uint8_t>& value) {
  call(msg::training_message{msg::rendezvous_set_request{attempt_id_, key,
                                                         std::string(value.begin(), value.end())}},
       options_.set_timeout);
}

std::vector<uint8_t> rank_link::get(const std::string& key, std::chrono::milliseconds timeout) {
  const auto ms = static_cast<uint32_t>(std::max<int64_t>(1, timeout.count()));
  auto reply = call(msg::training_message{msg::rendezvous_get_request{attempt_id_, key, ms}},
                    timeout + options_.reply_slack);
  const auto value = expect<msg::rendezvous_get_reply>(std::move(reply), "a get").value;
  return {value.begin(), value.end()};
}

msg::fetch_artifact_reply rank_link::fetch_artifact(const std::string& name,
                                                    const std::string& digest) {
  return fetch_artifact_range(name, digest, 0, 0);
}

msg::fetch_artifact_reply rank_link::fetch_artifact_range(const std::string& name,
                                                          const std::string& digest,
                                                          uint64_t offset, uint64_t length) {
  auto reply =
      call(msg::training_message{msg::fetch_artifact_request{
               attempt_id_, name, digest, transfer_ms(options_.transfer_timeout), offset, length}},
           options_.transfer_timeout + options_.reply_slack);
  return expect<msg::fetch_artifact_reply>(std::move(reply), "a fetch");
}

msg::artifact_info rank_link::publish_artifact(const std::string& path, const std::string& name,
                                               msg::artifact_kind kind) {
  auto reply = call(msg::training_message{msg::publish_artifact_request{
                        attempt_id_, path, name, kind, transfer_ms(options_.transfer_timeout)}},
                    options_.transfer_timeout + options_.reply_slack);
  return expect<msg::publish_artifact_reply>(std::move(reply), "a publish").artifact;
}

msg::artifact_info rank_link::assemble_dataset(const std::string& name,
                                               const std::vector<msg::dataset_part>& parts) {
  auto reply = call(msg::training_message{msg::assemble_dataset_request{
                        attempt_id_, name, parts, transfer_ms(options_.transfer_timeout)}},
                    options_.transfer_timeout + options_.reply_slack);
  return expect<msg::assemble_dataset_reply>(std::move(reply), "an assembly").artifact;
}

msg::register_model_reply rank_link::register_model(const model_registration& model) {
  auto reply = call(
      msg::training_message{msg::register_model_request{
          attempt_id_, model.artifact_digest, model.final_metrics_json, model.best_metrics_json,
          model.dataset_fingerprint, model.input_features, model.classes}},
      options_.set_timeout);
  return expect<msg::register_model_reply>(std::move(reply), "a registration");
}

void rank_link::send_report(msg::metrics_report report) {
  report.attempt_id = attempt_id_;
  msg::envelope env;
  env.sender = "rank " + attempt_id_;
  env.body = msg::training_message{std::move(report)};
  client_->send_raw(msg::encode(env));
}

void rank_link::report_step(const msg::step_metric& step) {
  waiting_step_ = step;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = std::chrono::duration<double>(1.0 / options_.steps_per_second);
  if (now - last_step_sent_ >= interval) flush();
}

void rank_link::report_epoch(const msg::epoch_metric& epoch) {
  msg::metrics_report report;
  if (waiting_step_) report.steps.push_back(*std::exchange(waiting_step_, std::nullopt));
  report.epochs.push_back(epoch);
  last_step_sent_ = std::chrono::steady_clock::now();
  send_report(std::move(report));
}

void rank_link::flush() {
  if (!waiting_step_) return;
  msg::metrics_report report;
  report.steps.push_back(*std::exchange(waiting_step_, std::nullopt));
  last_step_sent_ = std::chrono::steady_clock::now();
  send_report(std::move(report));
}

}  // namespace troupe::training
