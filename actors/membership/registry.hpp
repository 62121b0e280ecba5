// The head's table of nodes and the rules of membership. Plain C++ (no actors, no I/O):
// the membership actor feeds it messages and clock readings and acts on what it returns.
//
// Per node incarnation the liveness state machine is
//     alive <-> suspect -> dead          (failure detector; a heartbeat revives a suspect)
//     alive | suspect -> left            (clean deregistration)
// `dead` and `left` are final for an incarnation: the node must register again with a higher
// incarnation, which starts a fresh `alive`. Draining is a flag kept across incarnations;
// a draining alive node is reported as `draining`.
// Invariants: node names are unique among nodes that are not dead or left (a dead or left
// node keeps its entry, and its name, until a node with its id registers again or it is
// removed); messages from an incarnation lower than the registered one are refused.
// `state_since` is the time of the last liveness change: the drain flag does not touch it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/membership/failure_detector.hpp"
#include "config/settings.hpp"
#include "messages/cluster.hpp"
#include "messages/error.hpp"

namespace troupe::membership {

using clock = std::chrono::steady_clock;

struct state_change {
  std::string node_id;
  std::string name;
  uint64_t incarnation = 0;
  std::optional<msg::node_state> from;  // nullopt: a node the head had not seen
  msg::node_state to;
  bool new_incarnation = false;  // a registration started this incarnation
};

struct node_entry {
  msg::register_node_request info;
  std::string peer;                                   // transport identity to reach the node
  msg::node_state liveness = msg::node_state::alive;  // alive, suspect, dead or left
  bool draining = false;
  heartbeat_history history;
  clock::time_point last_heartbeat;
  clock::time_point state_since;
  uint64_t last_sequence = 0;
  msg::node_load load;
  msg::free_resources free;
  clock::time_point registered_at;  // start of this incarnation
  // Registered but not yet answered: the node heartbeats only once it has the answer, so
  // until then its silence is not its own (the answer waits for the store, behind others).
  bool awaiting_answer = false;

  msg::node_state reported_state() const;
};

class registry {
 public:
  registry(const config::failure_detector_settings& detector, uint32_t heartbeat_interval_ms,
           std::string head_node_id);

  struct register_result {
    // An error for a bad request or a name held by another live node; a rejection when the
    // incarnation cannot be accepted (the same as for a heartbeat of that incarnation). The
    // incarnation is checked before the name (docs/protocol.md gives the order).
    std::variant<msg::register_node_reply, msg::error, msg::heartbeat_rejected> reply;
    std::optional<state_change> change;  // set when the node (re)entered `alive`
    const node_entry* entry = nullptr;   // the node's entry after a successful registration
  };
  register_result on_register(const std::string& peer, const msg::register_node_request& request,
                              clock::time_point now);

  // The registration of `node_id`'s `incarnation` was answered at `now` (accepted or not):
  // from then on its silence counts.
  void registration_answered(const std::string& node_id, uint64_t incarnation,
                             clock::time_point now);

  struct heartbeat_result {
    std::optional<msg::heartbeat_rejected> rejected;
    std::optional<state_change> change;  // suspect -> alive
  };
  heartbeat_result on_heartbeat(const std::string& peer, const msg::heartbeat& beat,
                                clock::time_point now);

  std::optional<state_change> on_deregister(const msg::deregister_node& request,
                                            clock::time_point now);

  // Runs the failure detector over every live node whose registration was answered, not
  // counting against any node the lateness that many nodes share (`shared_lateness`).
  std::vector<state_change> evaluate(clock::time_point now);

  struct observation {
    size_t judged = 0;            // live nodes whose registration was answered
    clock::duration shared{0};    // the lateness many of them shared at this check
    clock::duration forgiven{0};  // what the check did not count against any node
  };
  // What the last evaluate() saw.
  const observation& last_observation() const { return observed_; }

  // Forgives a stall of the head itself (it could not read heartbeats while it was not
  // running): every live node's silence is shortened by `stall` (never into the future).
  void forgive_stall(clock::duration stall, clock::time_point now);

  // Drains or undrains the node named `name_or_id`.
  std::variant<const node_entry*, msg::error> set_draining(const std::string& name_or_id,
                                                           bool draining);

  // The node `name_or_id` if it may be removed (it is dead or left), else why not.
  std::variant<const node_entry*, msg::error> removable(const std::string& name_or_id);
  // Forgets a node entirely.
  void erase(const std::string& node_id);

  // Puts a node known from the store back in the table (head restart), keeping its stored
  // times. A node that was live gets `grace` to reconnect before its silence starts
  // counting: it stays alive if it heartbeats again, and is declared dead if not.
  void restore(node_entry entry, clock::time_point now, clock::duration grace);

  msg::node_status status_of(const node_entry& entry, clock::time_point now) const;
  msg::node_list_reply list(clock::time_point now) const;
  msg::cluster_status_reply summary() const;

  const node_entry* find(const std::string& node_id) const;
  size_t size() const { return nodes_.size(); }
  heartbeat_history fresh_history() const;

 private:
  node_entry* find_live_by_name(const std::string& name);
  // By id; else the live node of that name; else the one finished node of that name.
  std::variant<node_entry*, msg::error> resolve(const std::string& name_or_id);
  void set_liveness(node_entry& entry, msg::node_state to, clock::time_point now,
                    std::vector<state_change>* changes);

  config::failure_detector_settings detector_;
  uint32_t heartbeat_interval_ms_;
  std::string head_node_id_;
  std::map<std::string, node_entry> nodes_;  // by node id; ordered for stable listings
  observation observed_;
  clock::duration peak_{0};  // the largest shared lateness of the last shared_lateness::memory
  clock::time_point peak_at_{};
};

// Lateness that many nodes share is not theirs. A node's lateness is how much longer than its
// mean interval it has been silent. When at least `min_nodes` nodes are late by L or more in
// the same check, the likely cause is common to them: the head could not read heartbeats in
// time (measured: its receive path starved of CPU by a burst of CURVE handshakes on a busy
// machine), or the network or a shared host stalled; independent failures rarely coincide
// like that. The head then counts no node's silence up to L, and keeps granting the largest
// such L for `memory`, so that heartbeats stuck behind the trouble can still arrive; at most
// `longest_pause` (Lifeguard's "local health awareness", Akka's acceptable-heartbeat-pause;
// the Kubernetes node controller also stops evicting when many nodes go unhealthy at once).
// Only what other nodes show is forgiven: a lone silent node is judged as usual, and during a
// request flood a death is declared late only by as much as the flood delays everyone's
// heartbeats. Many nodes that really stop at once are declared dead `longest_pause` later than
// usual. A cluster of fewer than `min_nodes` nodes is always judged as usual.
struct shared_lateness {
  static constexpr size_t min_nodes = 8;
  static constexpr std::chrono::seconds memory{3};
  static constexpr std::chrono::seconds longest_pause{3};
};

bool is_live(msg::node_state liveness);

// What a node offers before anything is placed on it.
msg::free_resources full_capacity(const msg::resources& r);

}  // namespace troupe::membership
