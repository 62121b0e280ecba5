#include "actors/membership/registry.hpp"

#include <algorithm>
#include <functional>

#include "messages/safe_text.hpp"

namespace troupe::membership {
namespace {

uint64_t ms_between(clock::time_point earlier, clock::time_point later) {
  if (later <= earlier) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(later - earlier).count();
}

// Names and labels end up in tables, JSON and logs: the daemon checks its own by the same rule.
bool has_clean_texts(const msg::register_node_request& r) {
  if (!msg::is_node_text(r.name) || !msg::is_node_text(r.node_id)) return false;
  for (const auto& [key, value] : r.labels)
    if (!msg::is_node_text(key) || !msg::is_node_text(value)) return false;
  return true;
}

}  // namespace

msg::free_resources full_capacity(const msg::resources& r) {
  return {r.cpus, r.memory_mb, static_cast<uint32_t>(r.gpus.size())};
}

bool is_live(msg::node_state liveness) {
  return liveness == msg::node_state::alive || liveness == msg::node_state::suspect;
}

msg::node_state node_entry::reported_state() const {
  if (liveness == msg::node_state::alive && draining) return msg::node_state::draining;
  return liveness;
}

registry::registry(const config::failure_detector_settings& detector,
                   uint32_t heartbeat_interval_ms, std::string head_node_id)
    : detector_(detector),
      heartbeat_interval_ms_(heartbeat_interval_ms),
      head_node_id_(std::move(head_node_id)) {}

heartbeat_history registry::fresh_history() const {
  return heartbeat_history(detector_.window, std::chrono::milliseconds(heartbeat_interval_ms_),
                           std::chrono::milliseconds(detector_.min_std_dev_ms));
}

node_entry* registry::find_live_by_name(const std::string& name) {
  for (auto& [id, entry] : nodes_)
    if (entry.info.name == name && is_live(entry.liveness)) return &entry;
  return nullptr;
}

void registry::set_liveness(node_entry& entry, msg::node_state to, clock::time_point now,
                            std::vector<state_change>* changes) {
  if (entry.liveness == to) return;
  auto from = entry.reported_state();
  entry.liveness = to;
  entry.state_since = now;
  if (changes)
    changes->push_back({entry.info.node_id, entry.info.name, entry.info.incarnation, from,
                        entry.reported_state()});
}

registry::register_result registry::on_register(const std::string& peer,
                                                const msg::register_node_request& request,
                                                clock::time_point now) {
  using msg::error_code;
  register_result result;
  if (request.node_id.empty() || request.name.empty() || request.incarnation == 0) {
    result.reply = msg::error{error_code::invalid_request,
                              "registration needs a node id, a name and an incarnation > 0"};
    return result;
  }
  if (!has_clean_texts(request)) {
    result.reply =
        msg::error{error_code::invalid_request,
                   std::string("node id, name and labels must each be ") + msg::node_text_rule};
    return result;
  }
  auto it = nodes_.find(request.node_id);
  if (it != nodes_.end()) {
    const auto& entry = it->second;
    using reason = msg::heartbeat_reject_reason;
    if (request.incarnation < entry.info.incarnation) {
      result.reply = msg::heartbeat_rejected{reason::stale_incarnation, entry.info.incarnation};
      return result;
    }
    if (request.incarnation == entry.info.incarnation && !is_live(entry.liveness)) {
      result.reply = msg::heartbeat_rejected{reason::declared_dead, entry.info.incarnation};
      return result;
    }
  }
  if (auto* holder = find_live_by_name(request.name);
      holder && holder->info.node_id != request.node_id) {
    result.reply =
        msg::error{error_code::conflict, "node name `" + request.name + "` is taken by live node " +
                                             holder->info.node_id};
    return result;
  }
  std::vector<state_change> changes;
  if (it == nodes_.end() || request.incarnation > it->second.info.incarnation) {
    bool draining = it != nodes_.end() && it->second.draining;
    std::optional<msg::node_state> from;
    if (it != nodes_.end()) from = it->second.reported_state();
    node_entry entry{
        request, peer, msg::node_state::alive,           draining, fresh_history(), now, now,
        0,       {},   full_capacity(request.resources), now};
    result.change = state_change{request.node_id,        request.name, request.incarnation, from,
                                 entry.reported_state(), true};
    nodes_.insert_or_assign(request.node_id, std::move(entry));
  } else {
    // The same live incarnation again (a lost reply, or the head restarted): idempotent.
    auto& entry = it->second;
    entry.info = request;
    entry.peer = peer;
    entry.last_heartbeat = now;
    set_liveness(entry, msg::node_state::alive, now, &changes);
    if (!changes.empty()) result.change = changes.front();
  }
  auto& entry = nodes_.at(request.node_id);
  entry.awaiting_answer = true;
  result.entry = &entry;
  result.reply = msg::register_node_reply{heartbeat_interval_ms_, entry.draining};
  return result;
}

void registry::registration_answered(const std::string& node_id, uint64_t incarnation,
                                     clock::time_point now) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second.info.incarnation != incarnation) return;
  auto& entry = it->second;
  if (!entry.awaiting_answer) return;
  entry.awaiting_answer = false;
  entry.last_heartbeat = std::max(entry.last_heartbeat, now);
}

registry::heartbeat_result registry::on_heartbeat(const std::string& peer,
                                                  const msg::heartbeat& beat,
                                                  clock::time_point now) {
  using reason = msg::heartbeat_reject_reason;
  heartbeat_result result;
  auto it = nodes_.find(beat.node_id);
  if (it == nodes_.end()) {
    result.rejected = msg::heartbeat_rejected{reason::unknown_node, 0};
    return result;
  }
  auto& entry = it->second;
  const auto known = entry.info.incarnation;
  if (beat.incarnation < known) {
    result.rejected = msg::heartbeat_rejected{reason::stale_incarnation, known};
  } else if (beat.incarnation > known) {
    result.rejected = msg::heartbeat_rejected{reason::unknown_node, known};
  } else if (!is_live(entry.liveness)) {
    result.rejected = msg::heartbeat_rejected{reason::declared_dead, known};
  }
  if (result.rejected) return result;
  if (beat.sequence != 0 && beat.sequence <= entry.last_sequence) return result;  // replayed
  if (now > entry.last_heartbeat) entry.history.add_interval(now - entry.last_heartbeat);
  entry.last_heartbeat = now;
  entry.awaiting_answer = false;  // it has its answer
  entry.last_sequence = beat.sequence;
  entry.peer = peer;
  entry.load = beat.load;
  entry.free = beat.free;
  std::vector<state_change> changes;
  set_liveness(entry, msg::node_state::alive, now, &changes);
  if (!changes.empty()) result.change = changes.front();
  return result;
}

std::optional<state_change> registry::on_deregister(const msg::deregister_node& request,
                                                    clock::time_point now) {
  auto it = nodes_.find(request.node_id);
  if (it == nodes_.end() || it->second.info.incarnation != request.incarnation ||
      !is_live(it->second.liveness))
    return std::nullopt;
  std::vector<state_change> changes;
  set_liveness(it->second, msg::node_state::left, now, &changes);
  return changes.front();
}

std::vector<state_change> registry::evaluate(clock::time_point now) {
  using rule = shared_lateness;
  std::vector<node_entry*> judged;
  std::vector<clock::duration> lateness;
  for (auto& [id, entry] : nodes_) {
    if (!is_live(entry.liveness) || entry.awaiting_answer) continue;
    judged.push_back(&entry);
    lateness.push_back(now - entry.last_heartbeat -
                       std::chrono::duration_cast<clock::duration>(
                           std::chrono::duration<double, std::milli>(entry.history.mean_ms())));
  }
  // The lateness that the min_nodes latest nodes have all reached.
  clock::duration shared{0};
  if (judged.size() >= rule::min_nodes) {
    auto kth = lateness.begin() + (rule::min_nodes - 1);
    std::nth_element(lateness.begin(), kth, lateness.end(), std::greater<>());
    shared = std::max(*kth, clock::duration::zero());
  }
  if (shared >= peak_ || now - peak_at_ > rule::memory) {
    peak_ = shared;
    peak_at_ = now;
  }
  const auto forgiven = std::min<clock::duration>(peak_, rule::longest_pause);
  observed_ = {judged.size(), shared, forgiven};
  std::vector<state_change> changes;
  for (auto* entry : judged) {
    auto silence = now - entry->last_heartbeat;
    double phi =
        entry->history.phi(silence > forgiven ? silence - forgiven : clock::duration::zero());
    // A node always passes through suspect, even when one check finds both thresholds met.
    if (phi >= detector_.suspect_phi) set_liveness(*entry, msg::node_state::suspect, now, &changes);
    if (phi >= detector_.dead_phi) set_liveness(*entry, msg::node_state::dead, now, &changes);
  }
  return changes;
}

void registry::forgive_stall(clock::duration stall, clock::time_point now) {
  for (auto& [id, entry] : nodes_)
    // Never backwards: a restored node's silence may count from a grace that ends later.
    if (is_live(entry.liveness))
      entry.last_heartbeat =
          std::max(entry.last_heartbeat, std::min(entry.last_heartbeat + stall, now));
}

std::variant<node_entry*, msg::error> registry::resolve(const std::string& name_or_id) {
  if (auto it = nodes_.find(name_or_id); it != nodes_.end()) return &it->second;
  if (auto* live = find_live_by_name(name_or_id)) return live;
  node_entry* found = nullptr;
  for (auto& [id, entry] : nodes_) {
    if (entry.info.name != name_or_id) continue;
    if (found)
      return msg::error{msg::error_code::conflict,
                        "several finished nodes are named `" + name_or_id + "`: give the node id"};
    found = &entry;
  }
  if (!found) return msg::error{msg::error_code::not_found, "no node named `" + name_or_id + "`"};
  return found;
}

std::variant<const node_entry*, msg::error> registry::set_draining(const std::string& name_or_id,
                                                                   bool draining) {
  auto resolved = resolve(name_or_id);
  if (auto* err = std::get_if<msg::error>(&resolved)) return *err;
  auto* entry = std::get<node_entry*>(resolved);
  entry->draining = draining;
  return entry;
}

std::variant<const node_entry*, msg::error> registry::removable(const std::string& name_or_id) {
  auto resolved = resolve(name_or_id);
  if (auto* err = std::get_if<msg::error>(&resolved)) return *err;
  auto* entry = std::get<node_entry*>(resolved);
  if (is_live(entry->liveness))
    return msg::error{msg::error_code::conflict,
                      "node `" + entry->info.name + "` is " +
                          msg::to_string(entry->reported_state()) +
                          ": stop it (or wait until it is declared dead) before removing it"};
  return entry;
}

void registry::erase(const std::string& node_id) { nodes_.erase(node_id); }

void registry::restore(node_entry entry, clock::time_point now, clock::duration grace) {
  entry.history = fresh_history();
  if (is_live(entry.liveness)) entry.last_heartbeat = now + grace;
  entry.peer.clear();
  auto id = entry.info.node_id;
  nodes_.insert_or_assign(id, std::move(entry));
}

const node_entry* registry::find(const std::string& node_id) const {
  auto it = nodes_.find(node_id);
  return it == nodes_.end() ? nullptr : &it->second;
}

msg::node_status registry::status_of(const node_entry& entry, clock::time_point now) const {
  msg::node_status s;
  s.node_id = entry.info.node_id;
  s.name = entry.info.name;
  s.state = entry.reported_state();
  s.incarnation = entry.info.incarnation;
  s.addresses = entry.info.addresses;
  s.resources = entry.info.resources;
  s.free = entry.free;
  s.load = entry.load;
  s.labels = entry.info.labels;
  s.last_heartbeat_ms_ago = ms_between(entry.last_heartbeat, now);
  s.state_since_ms_ago = ms_between(entry.state_since, now);
  s.draining = entry.draining;
  s.is_head = entry.info.node_id == head_node_id_;
  s.version = entry.info.version;
  return s;
}

msg::node_list_reply registry::list(clock::time_point now) const {
  msg::node_list_reply reply;
  reply.nodes.reserve(nodes_.size());
  for (const auto& [id, entry] : nodes_) reply.nodes.push_back(status_of(entry, now));
  return reply;
}

msg::cluster_status_reply registry::summary() const {
  msg::cluster_status_reply s;
  for (const auto& [id, entry] : nodes_) {
    switch (entry.reported_state()) {
      case msg::node_state::alive: ++s.nodes_alive; break;
      case msg::node_state::suspect: ++s.nodes_suspect; break;
      case msg::node_state::dead: ++s.nodes_dead; break;
      case msg::node_state::draining: ++s.nodes_draining; break;
      case msg::node_state::left: ++s.nodes_left; break;
    }
    if (entry.liveness != msg::node_state::alive) continue;
    s.total.cpus += entry.info.resources.cpus;
    s.total.memory_mb += entry.info.resources.memory_mb;
    s.total.gpus += entry.info.resources.gpus.size();
    if (entry.draining) continue;
    s.available.cpus += entry.free.cpus;
    s.available.memory_mb += entry.free.memory_mb;
    s.available.gpus += entry.free.gpus;
  }
  return s;
}

}  // namespace troupe::membership
