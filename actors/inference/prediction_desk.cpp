#include "actors/inference/prediction_desk.hpp"

#include <spdlog/spdlog.h>

namespace troupe::inference {
namespace {

prediction_result failure(msg::error_code code, std::string why) {
  prediction_result out;
  out.error = msg::error{code, std::move(why)};
  return out;
}

std::optional<prediction_result> problem_of(const prediction_request& r) {
  using desk = prediction_desk;
  const auto invalid = msg::error_code::invalid_request;
  if (r.service.empty()) return failure(invalid, "service: required");
  if (r.feature_count < 1 || r.feature_count > desk::most_features)
    return failure(invalid,
                   "featureCount: must be 1 to 65536, got " + std::to_string(r.feature_count));
  if (r.features.empty() || r.features.size() % r.feature_count != 0)
    return failure(invalid, "features: expected whole rows of " + std::to_string(r.feature_count) +
                                " values, got " + std::to_string(r.features.size()) + " values");
  if (r.features.size() / r.feature_count > desk::most_rows)
    return failure(invalid, "features: at most 4096 rows per request, got " +
                                std::to_string(r.features.size() / r.feature_count));
  return std::nullopt;
}

void call_back(std::vector<std::pair<prediction_desk::done_fn, prediction_result>>& answers) {
  for (auto& [done, result] : answers) done(std::move(result));
}

}  // namespace

prediction_desk::prediction_desk(std::optional<transport::curve_keys> keys,
                                 msg::decode_limits limits, std::string self_name,
                                 std::shared_ptr<metrics::cache_counters> cache_lookups,
                                 uint64_t seed)
    : self_name_(std::move(self_name)),
      cache_lookups_(std::move(cache_lookups)),
      table_(seed),
      links_(std::move(keys), limits, [this](const std::string& attempt_id, msg::envelope answer) {
        from_replica(attempt_id, std::move(answer));
      }) {}

void prediction_desk::predict(prediction_request request, done_fn done) {
  if (auto refused = problem_of(request)) return done(std::move(*refused));
  pending p;
  p.request = std::move(request);
  p.done = std::move(done);
  answers out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    dispatch(std::move(p), {}, out);
  }
  call_back(out);
}

bool prediction_desk::answered_from_cache(pending& p, answers& out) {
  auto cache = caches_.find(p.to.job_id);
  if (cache == caches_.end()) return false;
  auto hit =
      cache->second.lookup(p.to.version, p.request.feature_count, p.request.features, clock::now());
  cache_lookups_->lookup(p.request.service, hit.has_value());
  if (!hit) return false;
  table_.answered(p.to.job_id, p.to.version);
  out.emplace_back(std::move(p.done), std::move(*hit));
  return true;
}

void prediction_desk::dispatch(pending p, const std::string& avoid, answers& out) {
  auto chosen = table_.route_request(p.request, avoid);
  if (auto* e = std::get_if<msg::error>(&chosen)) {
    prediction_result refused;
    refused.error = std::move(*e);
    // A retry that finds no other replica says why the first one failed, too.
    if (!p.failed.empty())
      refused.error->message = "replica " + p.to.attempt_id + " of " + p.request.service +
                               " did not answer (" + p.failed + "), and " + refused.error->message;
    out.emplace_back(std::move(p.done), std::move(refused));
    return;
  }
  p.to = std::get<route>(std::move(chosen));
  if (p.failed.empty() && answered_from_cache(p, out)) return;
  p.give_up = clock::now() + replica_wait;
  msg::envelope sent;
  sent.request_id = next_id_++;
  sent.sender = self_name_;
  sent.body = msg::inference_message{
      msg::predict_request{p.request.service, p.to.version, p.request.feature_count,
                           p.request.features, p.request.routing_key, p.to.attempt_id}};
  if (!links_.send(p.to.attempt_id, msg::encode(sent)))
    return replica_failed(std::move(p), "it has named no prediction socket", out);
  waiting_.emplace(sent.request_id, std::move(p));
}

void prediction_desk::replica_failed(pending p, const std::string& why, answers& out) {
  table_.failed(p.to.attempt_id);
  spdlog::info("replica {} of {} failed a prediction: {}", p.to.attempt_id, p.request.service, why);
  if (!p.failed.empty()) {
    auto answer = failure(msg::error_code::unavailable,
                          "the replicas of " + p.request.service + " did not answer: " + why);
    out.emplace_back(std::move(p.done), std::move(answer));
    return;
  }
  p.failed = why;
  const auto avoid = p.to.attempt_id;
  dispatch(std::move(p), avoid, out);
}

void prediction_desk::from_replica(const std::string& attempt_id, msg::envelope env) {
  answers out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = waiting_.find(env.request_id);
    if (it == waiting_.end() || it->second.to.attempt_id != attempt_id) return;
    auto p = std::move(it->second);
    waiting_.erase(it);
    auto* m = std::get_if<msg::inference_message>(&env.body);
    auto* r = m ? std::get_if<msg::predict_reply>(&m->body) : nullptr;
    if (const auto* e = std::get_if<msg::error>(&env.body)) {
      // The replica refused the request itself: that is the answer.
      if (e->code == msg::error_code::invalid_request) {
        out.emplace_back(std::move(p.done), failure(e->code, e->message));
      } else {
        replica_failed(std::move(p), e->message, out);
      }
    } else if (!r) {
      replica_failed(std::move(p), "an unexpected answer", out);
    } else {
      table_.answered(p.to.job_id, p.to.version);
      prediction_result answer;
      answer.model_name = std::move(r->model_name);
      answer.model_version = r->model_version;
      answer.rows = r->rows;
      answer.output_count = r->output_count;
      answer.outputs = std::move(r->outputs);
      answer.signature = std::move(p.to.signature);
      if (auto cache = caches_.find(p.to.job_id); cache != caches_.end())
        cache->second.store(p.to.version, p.request.feature_count, p.request.features, answer,
                            clock::now());
      out.emplace_back(std::move(p.done), std::move(answer));
    }
  }
  call_back(out);
}

void prediction_desk::fail_waiting(const std::function<bool(const pending&)>& gone,
                                   const std::string& why, answers& out) {
  std::vector<pending> failed;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (!gone(it->second)) {
      ++it;
      continue;
    }
    failed.push_back(std::move(it->second));
    it = waiting_.erase(it);
  }
  for (auto& p : failed) replica_failed(std::move(p), why, out);
}

void prediction_desk::retry_waiting_on(const std::string& attempt_id, const std::string& why) {
  answers out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_waiting([&](const pending& p) { return p.to.attempt_id == attempt_id; }, why, out);
  }
  call_back(out);
}

// The links change outside the desk's lock: a link closing joins its thread, which may be
// waiting for that lock with an answer.
void prediction_desk::link(const std::string& attempt_id, const std::string& endpoint,
                           const std::string& public_key) {
  if (links_.link(attempt_id, endpoint, public_key))
    retry_waiting_on(attempt_id, "it named another prediction socket");
}

void prediction_desk::unlink(const std::string& attempt_id, const std::string& why) {
  links_.drop(attempt_id);
  retry_waiting_on(attempt_id, why);
}

void prediction_desk::keep_cache(const std::string& job_id, const cache_policy& policy,
                                 const std::set<uint32_t>& versions) {
  std::lock_guard<std::mutex> lock(mutex_);
  caches_.try_emplace(job_id, policy).first->second.keep_only(versions);
}

void prediction_desk::sweep(clock::time_point now) {
  answers out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_waiting([&](const pending& p) { return p.give_up <= now; }, "no answer within 5 s", out);
    for (auto it = caches_.begin(); it != caches_.end();)
      it = table_.runs(it->first) ? std::next(it) : caches_.erase(it);
  }
  call_back(out);
}

}  // namespace troupe::inference
