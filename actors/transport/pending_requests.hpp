// Requests the head sends to nodes over its ROUTER (start a task, cancel a task) while it
// waits for their replies: each reply is matched to its request by request id, each attempt
// has a deadline, and an unanswered request is resent a bounded number of times. Plain C++
// (no actors, no I/O, no clock of its own): the owner sends what add() and due() return,
// hands resolve() every reply it receives, and calls due() with a clock reading, at the
// latest at next_deadline().
//
// Contract:
// - Request ids are unique within one pending_requests, which lives for one head run: they
//   count up from `first_id` and skip 0 (the id of answers to unreadable frames). Pass a
//   random `first_id` so that a restarted head's ids do not meet late replies to the ids of
//   its previous run.
// - A resend is the same envelope, request id included: the id is the idempotency key, so
//   the node must answer a repeat as the request it already got.
// - A request ends exactly once: answered (resolve), timed out after its last attempt (due)
//   or cancelled. Afterwards its id is unknown: a late or duplicate reply changes nothing.
// - Only a reply from the peer a request went to answers it; one from another peer leaves
//   the request pending.
// - Any body answers, `error` and `unimplemented` included: what it means is the owner's
//   call. Hand resolve() replies only, never a peer's own requests, whose ids come from the
//   peer's own counter.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "messages/envelope.hpp"

namespace troupe::actors {

using request_clock = std::chrono::steady_clock;

struct retry_policy {
  request_clock::duration timeout;  // per attempt; > 0
  uint32_t resends = 0;             // attempts after the first
};

// An envelope for `peer`, a ROUTER identity.
struct outbound {
  std::string peer;
  msg::envelope env;
};

struct answered_request {
  outbound request;
  msg::body reply;
  uint32_t attempts = 0;  // sends, the first included
};

struct timed_out_request {
  outbound request;
  uint32_t attempts = 0;
};

enum class unmatched_reply {
  unknown_request,  // no pending request has this id (never sent, already ended)
  wrong_peer,       // the request with this id went to another peer; it stays pending
};

struct due_requests {
  std::vector<outbound> resend;
  std::vector<timed_out_request> timed_out;
};

class pending_requests {
 public:
  // `sender` is written into every envelope.
  pending_requests(std::string sender, uint64_t first_id);

  // Starts a request of `body` to `peer`, first sent at `now`; returns what to send.
  outbound add(std::string peer, msg::body body, retry_policy policy,
               request_clock::time_point now);

  // Ends the request that `reply`, received from `peer`, answers; or says why it answers none.
  std::variant<answered_request, unmatched_reply> resolve(const std::string& peer,
                                                          const msg::envelope& reply);

  // Requests whose attempt's deadline is at or before `now`: resent while resends are left,
  // otherwise ended as timed out. Oldest deadline first. A resend's deadline counts from
  // `now`, so a late reading resends a request once, not once per deadline it missed.
  due_requests due(request_clock::time_point now);

  // Ends a pending request without an answer (e.g. its node was declared dead). False when
  // no request with that id is pending.
  bool cancel(uint64_t request_id);

  // The earliest deadline of a pending request; nullopt when none is pending.
  std::optional<request_clock::time_point> next_deadline() const;
  size_t size() const { return pending_.size(); }

 private:
  struct pending {
    outbound request;
    retry_policy policy;
    uint32_t attempts = 0;
    request_clock::time_point deadline;
  };

  uint64_t take_id();
  void forget(uint64_t request_id);

  std::string sender_;
  uint64_t next_id_;
  std::unordered_map<uint64_t, pending> pending_;                       // by request id
  std::set<std::pair<request_clock::time_point, uint64_t>> deadlines_;  // one per pending
};

}  // namespace troupe::actors
