#include "cluster/security/rank_keys.hpp"

namespace troupe::security {

key_pair rank_keys::add(const rank_attempt& attempt, int64_t now_ms) {
  const auto& attempt_id = attempt.attempt_id;
  auto pair = generate_key_pair();
  msg::key_info key;
  key.key_id = key_id_of(pair.public_key);
  key.role = msg::key_role::rank;
  key.public_key = pair.public_key;
  key.label = "rank of attempt " + attempt_id;
  key.created_at_ms = now_ms;
  std::lock_guard<std::mutex> guard(mutex_);
  auto old = id_of_attempt_.find(attempt_id);
  if (old != id_of_attempt_.end()) by_id_.erase(old->second);
  const auto id = key.key_id;
  id_of_attempt_[attempt_id] = id;
  by_id_[id] = {std::move(key), attempt};
  return pair;
}

void rank_keys::drop(const std::string& attempt_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = id_of_attempt_.find(attempt_id);
  if (it == id_of_attempt_.end()) return;
  by_id_.erase(it->second);
  id_of_attempt_.erase(it);
}

std::optional<rank_attempt> rank_keys::attempt_of(const std::string& key_id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = by_id_.find(key_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second.attempt;
}

std::optional<msg::key_info> rank_keys::admit(const std::string& public_key, int64_t now_ms) const {
  if (!is_z85_key(public_key)) return std::nullopt;
  return usable(key_id_of(public_key), now_ms);
}

std::optional<msg::key_info> rank_keys::usable(const std::string& key_id, int64_t) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = by_id_.find(key_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second.key;
}

}  // namespace troupe::security
