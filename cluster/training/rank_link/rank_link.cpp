#include "cluster/training/rank_link/rank_link.hpp"

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
  const auto* got = std::get_if<msg::rendezvous_get_reply>(&reply.body);
  if (!got) throw rank_link_error(msg::error_code::internal, "an unexpected answer to a get");
  return {got->value.begin(), got->value.end()};
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
