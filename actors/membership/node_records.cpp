#include "actors/membership/node_records.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace troupe::membership {
namespace {

using nlohmann::json;

// The store keeps wall-clock times; the registry measures on the steady clock.
int64_t unix_ms_of(clock::time_point t) {
  auto since = std::chrono::system_clock::now() -
               std::chrono::duration_cast<std::chrono::system_clock::duration>(clock::now() - t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(since.time_since_epoch()).count();
}

clock::time_point steady_of(int64_t unix_ms) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return clock::now() - std::chrono::milliseconds(std::max<int64_t>(0, now_ms - unix_ms));
}

msg::node_state state_from(const std::string& s) {
  for (auto st : {msg::node_state::alive, msg::node_state::suspect, msg::node_state::dead,
                  msg::node_state::draining, msg::node_state::left})
    if (s == msg::to_string(st)) return st;
  throw std::runtime_error("unknown node state `" + s + "`");
}

}  // namespace

store::node_record to_record(const node_entry& entry) {
  store::node_record r;
  r.node_id = entry.info.node_id;
  r.name = entry.info.name;
  r.incarnation = entry.info.incarnation;
  r.state = msg::to_string(entry.liveness);
  r.draining = entry.draining;
  r.addresses_json = json(entry.info.addresses).dump();
  json gpus = json::array();
  for (const auto& g : entry.info.resources.gpus)
    gpus.push_back({{"index", g.index}, {"name", g.name}, {"memory_mb", g.memory_mb}});
  r.resources_json = json{
      {"cpus", entry.info.resources.cpus},
      {"memory_mb", entry.info.resources.memory_mb},
      {"gpus", gpus}}.dump();
  r.labels_json = json(entry.info.labels).dump();
  r.version = entry.info.version;
  r.registered_at_ms = unix_ms_of(entry.registered_at);
  r.state_changed_at_ms = unix_ms_of(entry.state_since);
  return r;
}

node_entry from_record(const store::node_record& r, heartbeat_history history) {
  msg::register_node_request info;
  info.node_id = r.node_id;
  info.name = r.name;
  info.incarnation = r.incarnation;
  info.version = r.version;
  try {
    info.addresses = json::parse(r.addresses_json).get<std::vector<std::string>>();
    auto res = json::parse(r.resources_json);
    info.resources.cpus = res.at("cpus").get<double>();
    info.resources.memory_mb = res.at("memory_mb").get<uint64_t>();
    for (const auto& g : res.at("gpus"))
      info.resources.gpus.push_back({g.at("index").get<uint32_t>(), g.at("name").get<std::string>(),
                                     g.at("memory_mb").get<uint64_t>()});
    info.labels = json::parse(r.labels_json).get<msg::labels>();
  } catch (const json::exception& e) {
    throw std::runtime_error("stored node " + r.node_id + " is unreadable: " + e.what());
  }
  auto free = full_capacity(info.resources);
  auto liveness = state_from(r.state);
  if (liveness == msg::node_state::draining) liveness = msg::node_state::alive;
  auto state_since = steady_of(r.state_changed_at_ms);
  return node_entry{
      std::move(info), {}, liveness, r.draining, std::move(history),           state_since,
      state_since,     0,  {},       free,       steady_of(r.registered_at_ms)};
}

}  // namespace troupe::membership
