// Requests in flight per peer, so that one peer cannot take the head from the others: a
// peer may have at most `per_peer` requests admitted and not yet answered; the endpoint
// answers the rest `overloaded` on its socket thread, so a flooding peer cannot fill the
// actors' mailboxes and every other peer's request waits behind a bounded number of
// others. A request is released when the reply with its request id is sent.
//
// Thread-safe: requests are admitted on the socket thread and released by replying actors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe::actors {

class request_budget {
 public:
  explicit request_budget(size_t per_peer) : per_peer_(per_peer) {}

  // Counts the request unless `peer` already has `per_peer` in flight; returns whether it did.
  bool admit(const std::string& peer, uint64_t request_id);
  // The reply to `request_id` was sent; a reply that matches no admitted request is ignored.
  void release(const std::string& peer, uint64_t request_id);

  size_t in_flight(const std::string& peer) const;

 private:
  const size_t per_peer_;
  mutable std::mutex mutex_;
  // Peers with a request in flight, each with their request ids (a peer may repeat one).
  std::unordered_map<std::string, std::vector<uint64_t>> in_flight_;
};

}  // namespace troupe::actors
