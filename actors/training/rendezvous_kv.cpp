#include "actors/training/rendezvous_kv.hpp"

#include <algorithm>
#include <utility>

namespace troupe::training {
namespace {

msg::error invalid(std::string why) { return {msg::error_code::invalid_request, std::move(why)}; }

std::string round_text(const generation& g) {
  return "attempt " + std::to_string(g.round) + " of job " + g.job_id;
}

}  // namespace

rendezvous_kv::rendezvous_kv(rendezvous_limits limits) : limits_(limits) {}

std::variant<rendezvous_kv::space*, msg::error> rendezvous_kv::open(const generation& g,
                                                                    clock::time_point now) {
  auto newest = newest_round_.find(g.job_id);
  if (newest != newest_round_.end() && g.round < newest->second)
    return msg::error{msg::error_code::conflict, round_text(g) + " is superseded by attempt " +
                                                     std::to_string(newest->second)};
  if (newest != newest_round_.end() && g.round > newest->second) {
    // A retry of the gang: the older rounds' spaces go, their waiters are told.
    for (auto it = spaces_.lower_bound({g.job_id, 0});
         it != spaces_.end() && it->first.first == g.job_id && it->first.second < g.round;) {
      for (const auto& w : it->second.waiters)
        superseded_.push_back(
            {w.id,
             msg::error{msg::error_code::conflict,
                        "attempt " + std::to_string(it->first.second) + " of job " + g.job_id +
                            " is superseded by attempt " + std::to_string(g.round)}});
      it = spaces_.erase(it);
    }
  }
  newest_round_[g.job_id] = g.round;
  auto& s = spaces_[{g.job_id, g.round}];
  s.last_used = now;
  return &s;
}

std::variant<std::vector<answer>, msg::error> rendezvous_kv::set(const generation& g,
                                                                 const std::string& key,
                                                                 std::string value,
                                                                 clock::time_point now) {
  if (key.empty() || key.size() > limits_.max_key_bytes)
    return invalid("key: expected 1 to " + std::to_string(limits_.max_key_bytes) + " bytes, got " +
                   std::to_string(key.size()));
  if (value.size() > limits_.max_value_bytes)
    return invalid("value: at most " + std::to_string(limits_.max_value_bytes) + " bytes, got " +
                   std::to_string(value.size()));
  auto opened = open(g, now);
  if (auto* e = std::get_if<msg::error>(&opened)) return *e;
  auto& s = *std::get<space*>(opened);
  auto existing = s.values.find(key);
  const size_t old_bytes = existing == s.values.end() ? 0 : key.size() + existing->second.size();
  if (existing == s.values.end() && s.values.size() >= limits_.max_keys)
    return invalid("the rendezvous of " + round_text(g) + " holds " +
                   std::to_string(limits_.max_keys) + " keys, the most it may");
  if (s.bytes - old_bytes + key.size() + value.size() > limits_.max_space_bytes)
    return invalid("the rendezvous of " + round_text(g) + " would exceed " +
                   std::to_string(limits_.max_space_bytes) + " bytes");
  s.bytes = s.bytes - old_bytes + key.size() + value.size();
  std::vector<answer> answered;
  auto waits_for_key = [&](const waiter& w) { return w.key == key; };
  for (const auto& w : s.waiters)
    if (waits_for_key(w)) answered.push_back({w.id, value});
  s.waiters.erase(std::remove_if(s.waiters.begin(), s.waiters.end(), waits_for_key),
                  s.waiters.end());
  s.values[key] = std::move(value);
  return answered;
}

std::variant<std::string, waiting, msg::error> rendezvous_kv::get(const generation& g,
                                                                  const std::string& key,
                                                                  uint32_t timeout_ms, waiter_id id,
                                                                  clock::time_point now) {
  if (key.empty() || key.size() > limits_.max_key_bytes)
    return invalid("key: expected 1 to " + std::to_string(limits_.max_key_bytes) + " bytes, got " +
                   std::to_string(key.size()));
  if (timeout_ms == 0 || timeout_ms > limits_.max_timeout_ms)
    return invalid("timeoutMs: expected 1 to " + std::to_string(limits_.max_timeout_ms) + ", got " +
                   std::to_string(timeout_ms));
  auto opened = open(g, now);
  if (auto* e = std::get_if<msg::error>(&opened)) return *e;
  auto& s = *std::get<space*>(opened);
  auto found = s.values.find(key);
  if (found != s.values.end()) return found->second;
  if (s.waiters.size() >= limits_.max_waiters)
    return msg::error{msg::error_code::overloaded, std::to_string(limits_.max_waiters) +
                                                       " gets of " + round_text(g) +
                                                       " wait already; retry later"};
  s.waiters.push_back({id, key, now + std::chrono::milliseconds(timeout_ms)});
  return waiting{};
}

std::vector<answer> rendezvous_kv::take_due(clock::time_point now) {
  auto due = std::exchange(superseded_, {});
  for (auto it = spaces_.begin(); it != spaces_.end();) {
    auto& s = it->second;
    auto expired = [&](const waiter& w) { return w.deadline <= now; };
    for (const auto& w : s.waiters)
      if (expired(w))
        due.push_back(
            {w.id, msg::error{msg::error_code::timeout, "key " + w.key + " was not set in time"}});
    s.waiters.erase(std::remove_if(s.waiters.begin(), s.waiters.end(), expired), s.waiters.end());
    if (s.waiters.empty() && now - s.last_used >= limits_.idle_limit) {
      const auto job = it->first.first;
      it = spaces_.erase(it);
      auto rest = spaces_.lower_bound({job, 0});
      if (rest == spaces_.end() || rest->first.first != job) newest_round_.erase(job);
    } else {
      ++it;
    }
  }
  return due;
}

std::optional<clock::time_point> rendezvous_kv::next_deadline() const {
  std::optional<clock::time_point> next;
  for (const auto& [key, s] : spaces_)
    for (const auto& w : s.waiters)
      if (!next || w.deadline < *next) next = w.deadline;
  return next;
}

}  // namespace troupe::training
