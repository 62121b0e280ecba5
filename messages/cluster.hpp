// Plain C++ mirrors of messages/cluster.capnp: what actors exchange. Only the codec
// (codec.cpp) converts between these and Cap'n Proto readers/builders.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace troupe::msg {

struct gpu_info {
  uint32_t index = 0;
  std::string name;
  uint64_t memory_mb = 0;
  bool operator==(const gpu_info& o) const {
    return index == o.index && name == o.name && memory_mb == o.memory_mb;
  }
};

using labels = std::map<std::string, std::string>;

struct resources {
  double cpus = 0;
  uint64_t memory_mb = 0;
  std::vector<gpu_info> gpus;
  bool operator==(const resources& o) const {
    return cpus == o.cpus && memory_mb == o.memory_mb && gpus == o.gpus;
  }
};

struct free_resources {
  double cpus = 0;
  uint64_t memory_mb = 0;
  uint32_t gpus = 0;
  bool operator==(const free_resources& o) const {
    return cpus == o.cpus && memory_mb == o.memory_mb && gpus == o.gpus;
  }
};

struct node_load {
  double load_average_1m = 0;
  uint64_t memory_used_mb = 0;
  uint32_t running_tasks = 0;
  bool operator==(const node_load& o) const {
    return load_average_1m == o.load_average_1m && memory_used_mb == o.memory_used_mb &&
           running_tasks == o.running_tasks;
  }
};

struct register_node_request {
  std::string node_id;
  std::string name;
  uint64_t incarnation = 0;
  std::vector<std::string> addresses;
  struct resources resources;
  msg::labels labels;
  std::string version;
  bool operator==(const register_node_request& o) const {
    return node_id == o.node_id && name == o.name && incarnation == o.incarnation &&
           addresses == o.addresses && resources == o.resources && labels == o.labels &&
           version == o.version;
  }
};

struct register_node_reply {
  uint32_t heartbeat_interval_ms = 0;
  bool draining = false;
  bool operator==(const register_node_reply& o) const {
    return heartbeat_interval_ms == o.heartbeat_interval_ms && draining == o.draining;
  }
};

struct heartbeat {
  std::string node_id;
  uint64_t incarnation = 0;
  uint64_t sequence = 0;
  node_load load;
  free_resources free;
  bool operator==(const heartbeat& o) const {
    return node_id == o.node_id && incarnation == o.incarnation && sequence == o.sequence &&
           load == o.load && free == o.free;
  }
};

enum class heartbeat_reject_reason { unknown_node, declared_dead, stale_incarnation };

struct heartbeat_rejected {
  heartbeat_reject_reason reason = heartbeat_reject_reason::unknown_node;
  uint64_t known_incarnation = 0;
  bool operator==(const heartbeat_rejected& o) const {
    return reason == o.reason && known_incarnation == o.known_incarnation;
  }
};

struct deregister_node {
  std::string node_id;
  uint64_t incarnation = 0;
  std::string reason;
  bool operator==(const deregister_node& o) const {
    return node_id == o.node_id && incarnation == o.incarnation && reason == o.reason;
  }
};

enum class node_state { alive, suspect, dead, draining, left };

const char* to_string(node_state state);

struct node_status {
  std::string node_id;
  std::string name;
  node_state state = node_state::alive;
  uint64_t incarnation = 0;
  std::vector<std::string> addresses;
  struct resources resources;
  free_resources free;
  node_load load;
  msg::labels labels;
  uint64_t last_heartbeat_ms_ago = 0;
  uint64_t state_since_ms_ago = 0;
  bool draining = false;
  bool is_head = false;
  std::string version;
  bool operator==(const node_status& o) const {
    return node_id == o.node_id && name == o.name && state == o.state &&
           incarnation == o.incarnation && addresses == o.addresses && resources == o.resources &&
           free == o.free && load == o.load && labels == o.labels &&
           last_heartbeat_ms_ago == o.last_heartbeat_ms_ago &&
           state_since_ms_ago == o.state_since_ms_ago && draining == o.draining &&
           is_head == o.is_head && version == o.version;
  }
};

struct cluster_status_request {
  bool operator==(const cluster_status_request&) const { return true; }
};

struct cluster_status_reply {
  std::string head_version;
  uint64_t head_uptime_ms = 0;
  uint32_t nodes_alive = 0;
  uint32_t nodes_suspect = 0;
  uint32_t nodes_dead = 0;
  uint32_t nodes_draining = 0;
  uint32_t nodes_left = 0;
  free_resources total;
  free_resources available;
  uint64_t malformed_messages = 0;
  bool operator==(const cluster_status_reply& o) const {
    return head_version == o.head_version && head_uptime_ms == o.head_uptime_ms &&
           nodes_alive == o.nodes_alive && nodes_suspect == o.nodes_suspect &&
           nodes_dead == o.nodes_dead && nodes_draining == o.nodes_draining &&
           nodes_left == o.nodes_left && total == o.total && available == o.available &&
           malformed_messages == o.malformed_messages;
  }
};

struct node_list_request {
  bool operator==(const node_list_request&) const { return true; }
};

struct node_list_reply {
  std::vector<node_status> nodes;
  bool operator==(const node_list_reply& o) const { return nodes == o.nodes; }
};

struct drain_node_request {
  std::string node;
  bool drain = true;
  bool operator==(const drain_node_request& o) const { return node == o.node && drain == o.drain; }
};

struct drain_node_reply {
  node_status node;
  bool operator==(const drain_node_reply& o) const { return node == o.node; }
};

struct remove_node_request {
  std::string node;
  bool operator==(const remove_node_request& o) const { return node == o.node; }
};

struct remove_node_reply {
  std::string node_id;
  std::string name;
  bool operator==(const remove_node_reply& o) const {
    return node_id == o.node_id && name == o.name;
  }
};

}  // namespace troupe::msg
