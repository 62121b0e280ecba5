// The cluster area's part of the codec (messages/cluster.capnp <-> messages/cluster.hpp). Its
// messages are the envelope's first body members, kept flat there for wire compatibility.
#include "messages/cluster_codec.hpp"

#include "messages/cluster.capnp.h"
#include "messages/codec_parts.hpp"

namespace troupe::msg::cluster_codec {
namespace {

using namespace parts;

void put(wire::GpuInfo::Builder b, const gpu_info& v) {
  b.setIndex(v.index);
  b.setName(text(v.name));
  b.setMemoryMb(v.memory_mb);
}

void put(wire::Resources::Builder b, const resources& v) {
  b.setCpus(v.cpus);
  b.setMemoryMb(v.memory_mb);
  auto gpus = b.initGpus(static_cast<unsigned>(v.gpus.size()));
  for (unsigned i = 0; i < v.gpus.size(); ++i) put(gpus[i], v.gpus[i]);
}

void put(wire::FreeResources::Builder b, const free_resources& v) {
  b.setCpus(v.cpus);
  b.setMemoryMb(v.memory_mb);
  b.setGpus(v.gpus);
}

void put(wire::NodeLoad::Builder b, const node_load& v) {
  b.setLoadAverage1m(v.load_average_1m);
  b.setMemoryUsedMb(v.memory_used_mb);
  b.setRunningTasks(v.running_tasks);
}

void put(capnp::List<wire::Label>::Builder b, const labels& v) {
  unsigned i = 0;
  for (const auto& [key, value] : v) {
    b[i].setKey(text(key));
    b[i].setValue(text(value));
    ++i;
  }
}

void put(capnp::List<capnp::Text>::Builder b, const std::vector<std::string>& v) {
  for (unsigned i = 0; i < v.size(); ++i) b.set(i, text(v[i]));
}

void put(wire::NodeStatus::Builder b, const node_status& v) {
  b.setNodeId(text(v.node_id));
  b.setName(text(v.name));
  b.setState(cast_enum<wire::NodeState>(v.state));
  b.setIncarnation(v.incarnation);
  put(b.initAddresses(static_cast<unsigned>(v.addresses.size())), v.addresses);
  put(b.initResources(), v.resources);
  put(b.initFree(), v.free);
  put(b.initLoad(), v.load);
  put(b.initLabels(static_cast<unsigned>(v.labels.size())), v.labels);
  b.setLastHeartbeatMsAgo(v.last_heartbeat_ms_ago);
  b.setStateSinceMsAgo(v.state_since_ms_ago);
  b.setDraining(v.draining);
  b.setIsHead(v.is_head);
  b.setVersion(text(v.version));
}

struct encoder {
  Body::Builder b;
  bool written = true;  // false: `v` belongs to another area

  void operator()(const register_node_request& v) {
    auto r = b.initRegisterNodeRequest();
    r.setNodeId(text(v.node_id));
    r.setName(text(v.name));
    r.setIncarnation(v.incarnation);
    put(r.initAddresses(static_cast<unsigned>(v.addresses.size())), v.addresses);
    put(r.initResources(), v.resources);
    put(r.initLabels(static_cast<unsigned>(v.labels.size())), v.labels);
    r.setVersion(text(v.version));
  }
  void operator()(const register_node_reply& v) {
    auto r = b.initRegisterNodeReply();
    r.setHeartbeatIntervalMs(v.heartbeat_interval_ms);
    r.setDraining(v.draining);
  }
  void operator()(const heartbeat& v) {
    auto h = b.initHeartbeat();
    h.setNodeId(text(v.node_id));
    h.setIncarnation(v.incarnation);
    h.setSequence(v.sequence);
    put(h.initLoad(), v.load);
    put(h.initFree(), v.free);
  }
  void operator()(const heartbeat_rejected& v) {
    auto r = b.initHeartbeatRejected();
    r.setReason(cast_enum<wire::HeartbeatRejectReason>(v.reason));
    r.setKnownIncarnation(v.known_incarnation);
  }
  void operator()(const deregister_node& v) {
    auto d = b.initDeregisterNode();
    d.setNodeId(text(v.node_id));
    d.setIncarnation(v.incarnation);
    d.setReason(text(v.reason));
  }
  void operator()(const cluster_status_request&) { b.initClusterStatusRequest(); }
  void operator()(const cluster_status_reply& v) {
    auto r = b.initClusterStatusReply();
    r.setHeadVersion(text(v.head_version));
    r.setHeadUptimeMs(v.head_uptime_ms);
    r.setNodesAlive(v.nodes_alive);
    r.setNodesSuspect(v.nodes_suspect);
    r.setNodesDead(v.nodes_dead);
    r.setNodesDraining(v.nodes_draining);
    r.setNodesLeft(v.nodes_left);
    put(r.initTotal(), v.total);
    put(r.initAvailable(), v.available);
    r.setMalformedMessages(v.malformed_messages);
  }
  void operator()(const node_list_request&) { b.initNodeListRequest(); }
  void operator()(const node_list_reply& v) {
    auto nodes = b.initNodeListReply().initNodes(static_cast<unsigned>(v.nodes.size()));
    for (unsigned i = 0; i < v.nodes.size(); ++i) put(nodes[i], v.nodes[i]);
  }
  void operator()(const drain_node_request& v) {
    auto r = b.initDrainNodeRequest();
    r.setNode(text(v.node));
    r.setDrain(v.drain);
  }
  void operator()(const drain_node_reply& v) { put(b.initDrainNodeReply().initNode(), v.node); }
  void operator()(const remove_node_request& v) { b.initRemoveNodeRequest().setNode(text(v.node)); }
  void operator()(const remove_node_reply& v) {
    auto r = b.initRemoveNodeReply();
    r.setNodeId(text(v.node_id));
    r.setName(text(v.name));
  }
  template <class Other>
  void operator()(const Other&) {
    written = false;
  }
};

gpu_info get(wire::GpuInfo::Reader r) { return {r.getIndex(), str(r.getName()), r.getMemoryMb()}; }

resources get(wire::Resources::Reader r) {
  resources v;
  v.cpus = finite(r.getCpus());
  v.memory_mb = r.getMemoryMb();
  for (auto g : r.getGpus()) v.gpus.push_back(get(g));
  return v;
}

free_resources get(wire::FreeResources::Reader r) {
  return {finite(r.getCpus()), r.getMemoryMb(), r.getGpus()};
}

node_load get(wire::NodeLoad::Reader r) {
  return {finite(r.getLoadAverage1m()), r.getMemoryUsedMb(), r.getRunningTasks()};
}

labels get(capnp::List<wire::Label>::Reader r) {
  labels v;
  for (auto l : r) v[str(l.getKey())] = str(l.getValue());
  return v;
}

std::vector<std::string> get(capnp::List<capnp::Text>::Reader r) {
  std::vector<std::string> v;
  v.reserve(r.size());
  for (auto t : r) v.push_back(str(t));
  return v;
}

node_status get(wire::NodeStatus::Reader r) {
  node_status v;
  v.node_id = str(r.getNodeId());
  v.name = str(r.getName());
  v.state = checked_enum(r.getState(), node_state::left);
  v.incarnation = r.getIncarnation();
  v.addresses = get(r.getAddresses());
  v.resources = get(r.getResources());
  v.free = get(r.getFree());
  v.load = get(r.getLoad());
  v.labels = get(r.getLabels());
  v.last_heartbeat_ms_ago = r.getLastHeartbeatMsAgo();
  v.state_since_ms_ago = r.getStateSinceMsAgo();
  v.draining = r.getDraining();
  v.is_head = r.getIsHead();
  v.version = str(r.getVersion());
  return v;
}

}  // namespace

bool put(Body::Builder b, const body& v) {
  encoder e{b};
  std::visit(e, v);
  return e.written;
}

std::optional<body> get(Body::Reader b) {
  switch (b.which()) {
    case Body::REGISTER_NODE_REQUEST: {
      auto r = b.getRegisterNodeRequest();
      register_node_request v;
      v.node_id = str(r.getNodeId());
      v.name = str(r.getName());
      v.incarnation = r.getIncarnation();
      v.addresses = get(r.getAddresses());
      v.resources = get(r.getResources());
      v.labels = get(r.getLabels());
      v.version = str(r.getVersion());
      return v;
    }
    case Body::REGISTER_NODE_REPLY: {
      auto r = b.getRegisterNodeReply();
      return register_node_reply{r.getHeartbeatIntervalMs(), r.getDraining()};
    }
    case Body::HEARTBEAT: {
      auto h = b.getHeartbeat();
      return heartbeat{str(h.getNodeId()), h.getIncarnation(), h.getSequence(), get(h.getLoad()),
                       get(h.getFree())};
    }
    case Body::HEARTBEAT_REJECTED: {
      auto r = b.getHeartbeatRejected();
      return heartbeat_rejected{
          checked_enum(r.getReason(), heartbeat_reject_reason::stale_incarnation),
          r.getKnownIncarnation()};
    }
    case Body::DEREGISTER_NODE: {
      auto d = b.getDeregisterNode();
      return deregister_node{str(d.getNodeId()), d.getIncarnation(), str(d.getReason())};
    }
    case Body::CLUSTER_STATUS_REQUEST: return cluster_status_request{};
    case Body::CLUSTER_STATUS_REPLY: {
      auto r = b.getClusterStatusReply();
      cluster_status_reply v;
      v.head_version = str(r.getHeadVersion());
      v.head_uptime_ms = r.getHeadUptimeMs();
      v.nodes_alive = r.getNodesAlive();
      v.nodes_suspect = r.getNodesSuspect();
      v.nodes_dead = r.getNodesDead();
      v.nodes_draining = r.getNodesDraining();
      v.nodes_left = r.getNodesLeft();
      v.total = get(r.getTotal());
      v.available = get(r.getAvailable());
      v.malformed_messages = r.getMalformedMessages();
      return v;
    }
    case Body::NODE_LIST_REQUEST: return node_list_request{};
    case Body::NODE_LIST_REPLY: {
      node_list_reply v;
      for (auto n : b.getNodeListReply().getNodes()) v.nodes.push_back(get(n));
      return v;
    }
    case Body::DRAIN_NODE_REQUEST: {
      auto r = b.getDrainNodeRequest();
      return drain_node_request{str(r.getNode()), r.getDrain()};
    }
    case Body::DRAIN_NODE_REPLY: return drain_node_reply{get(b.getDrainNodeReply().getNode())};
    case Body::REMOVE_NODE_REQUEST:
      return remove_node_request{str(b.getRemoveNodeRequest().getNode())};
    case Body::REMOVE_NODE_REPLY: {
      auto r = b.getRemoveNodeReply();
      return remove_node_reply{str(r.getNodeId()), str(r.getName())};
    }
    default: return std::nullopt;
  }
}

}  // namespace troupe::msg::cluster_codec
