// Fuzz target: the head's handling of every decoded message. The frame is decoded and fed,
// twice, to a membership registry (actors/membership/registry.hpp) that already holds the
// head and a node; then the failure detector runs. After each step the registry's invariants
// hold and every node survives a trip through its store record (the membership actor writes
// one per change, and a head restart reads it back).
#include <cstdint>
#include <cstdlib>
#include <set>

#include "actors/membership/node_records.hpp"
#include "actors/membership/registry.hpp"
#include "messages/codec.hpp"

using namespace troupe;
using namespace troupe::membership;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

msg::register_node_request known_node(const std::string& id, const std::string& name) {
  msg::register_node_request r;
  r.node_id = id;
  r.name = name;
  r.incarnation = 5;
  r.addresses = {"tcp://10.0.0.1:7100"};
  r.resources = {8, 16'000, {{0, "NVIDIA H100 80GB HBM3", 81'559}}};
  r.labels = {{"zone", "a"}};
  r.version = "0.1.0";
  return r;
}

void check_invariants(const registry& nodes, clock::time_point now) {
  const auto list = nodes.list(now);
  require(list.nodes.size() == nodes.size());
  const auto s = nodes.summary();
  require(s.nodes_alive + s.nodes_suspect + s.nodes_dead + s.nodes_draining + s.nodes_left ==
          nodes.size());
  std::set<std::string> live_names;
  for (const auto& status : list.nodes) {
    const auto* entry = nodes.find(status.node_id);
    require(entry != nullptr);
    if (is_live(entry->liveness)) require(live_names.insert(status.name).second);
    const auto back = from_record(to_record(*entry), nodes.fresh_history());
    require(back.info.addresses == entry->info.addresses);
    require(back.info.resources == entry->info.resources);
    require(back.info.labels == entry->info.labels);
  }
}

// What the membership actor does with each message kind it is routed.
struct head {
  registry& nodes;
  clock::time_point now;

  void operator()(const msg::register_node_request& r) { nodes.on_register("fuzz", r, now); }
  void operator()(const msg::heartbeat& h) { nodes.on_heartbeat("fuzz", h, now); }
  void operator()(const msg::deregister_node& d) { nodes.on_deregister(d, now); }
  void operator()(const msg::drain_node_request& d) { nodes.set_draining(d.node, d.drain); }
  void operator()(const msg::remove_node_request& r) {
    auto removable = nodes.removable(r.node);
    if (auto* entry = std::get_if<const node_entry*>(&removable))
      nodes.erase((*entry)->info.node_id);
  }
  void operator()(const msg::cluster_status_request&) { nodes.summary(); }
  void operator()(const msg::node_list_request&) { nodes.list(now); }
  template <class Other>
  void operator()(const Other&) {}  // not routed to membership: the endpoint answers
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto result = msg::decode(data, size);
  const auto* env = std::get_if<msg::envelope>(&result);
  if (!env) return 0;

  registry nodes(config::failure_detector_settings{}, 200, "head-id");
  auto now = clock::now();
  nodes.on_register("head", known_node("head-id", "head"), now);
  nodes.on_register("n1", known_node("node-1-5f1c9e", "worker-1"), now);
  for (int round = 0; round < 2; ++round) {
    now += std::chrono::milliseconds(200);
    std::visit(head{nodes, now}, env->body);
    check_invariants(nodes, now);
  }
  nodes.evaluate(now + std::chrono::seconds(10));
  check_invariants(nodes, now + std::chrono::seconds(10));
  return 0;
}
