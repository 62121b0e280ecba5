#include "actors/transport/pending_requests.hpp"

namespace troupe::actors {

pending_requests::pending_requests(std::string sender, uint64_t first_id)
    : sender_(std::move(sender)), next_id_(first_id) {}

uint64_t pending_requests::take_id() {
  if (next_id_ == 0) ++next_id_;
  return next_id_++;
}

outbound pending_requests::add(std::string peer, msg::body body, retry_policy policy,
                               request_clock::time_point now) {
  msg::envelope env;
  env.request_id = take_id();
  env.sender = sender_;
  env.body = std::move(body);
  const auto id = env.request_id;
  const auto deadline = now + policy.timeout;
  outbound request{std::move(peer), std::move(env)};
  pending_.emplace(id, pending{request, policy, 1, deadline});
  deadlines_.emplace(deadline, id);
  return request;
}

std::variant<answered_request, unmatched_reply> pending_requests::resolve(
    const std::string& peer, const msg::envelope& reply) {
  auto it = pending_.find(reply.request_id);
  if (it == pending_.end()) return unmatched_reply::unknown_request;
  if (it->second.request.peer != peer) return unmatched_reply::wrong_peer;
  answered_request answered{std::move(it->second.request), reply.body, it->second.attempts};
  forget(reply.request_id);
  return answered;
}

due_requests pending_requests::due(request_clock::time_point now) {
  due_requests result;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const auto id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto& request = pending_.at(id);
    if (request.attempts > request.policy.resends) {
      result.timed_out.push_back({std::move(request.request), request.attempts});
      pending_.erase(id);
      continue;
    }
    ++request.attempts;
    request.deadline = now + request.policy.timeout;
    deadlines_.emplace(request.deadline, id);
    result.resend.push_back(request.request);
  }
  return result;
}

bool pending_requests::cancel(uint64_t request_id) {
  if (pending_.count(request_id) == 0) return false;
  forget(request_id);
  return true;
}

std::optional<request_clock::time_point> pending_requests::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

void pending_requests::forget(uint64_t request_id) {
  auto it = pending_.find(request_id);
  deadlines_.erase({it->second.deadline, request_id});
  pending_.erase(it);
}

}  // namespace troupe::actors
