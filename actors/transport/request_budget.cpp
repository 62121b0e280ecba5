#include "actors/transport/request_budget.hpp"

#include <algorithm>

namespace troupe::actors {

bool request_budget::admit(const std::string& peer, uint64_t request_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& ids = in_flight_[peer];
  if (ids.size() >= per_peer_) return false;
  ids.push_back(request_id);
  return true;
}

void request_budget::release(const std::string& peer, uint64_t request_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = in_flight_.find(peer);
  if (it == in_flight_.end()) return;
  auto& ids = it->second;
  auto id = std::find(ids.begin(), ids.end(), request_id);
  if (id == ids.end()) return;
  *id = ids.back();
  ids.pop_back();
  if (ids.empty()) in_flight_.erase(it);
}

size_t request_budget::in_flight(const std::string& peer) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = in_flight_.find(peer);
  return it == in_flight_.end() ? 0 : it->second.size();
}

}  // namespace troupe::actors
