# Cluster membership: node registration, heartbeats, status, drain.
# Flow: a node sends RegisterNodeRequest and waits for RegisterNodeReply, then sends a
# Heartbeat every `heartbeatIntervalMs` (no reply). The head answers a heartbeat only when
# it cannot accept it (HeartbeatRejected, echoing the heartbeat's requestId; the head does
# not read a heartbeat's requestId otherwise). A stopping node sends DeregisterNode.
# docs/protocol.md describes the checks, timing and answers of each flow.
@0xc3b25cfa95dedcd2;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

struct GpuInfo {
  index @0 :UInt32;    # CUDA device ordinal on its node
  name @1 :Text;       # e.g. "NVIDIA H100 80GB HBM3"
  memoryMb @2 :UInt64;
}

struct Label {
  key @0 :Text;
  value @1 :Text;
}

# What a node offers in total.
struct Resources {
  cpus @0 :Float64;
  memoryMb @1 :UInt64;
  gpus @2 :List(GpuInfo);
}

# Amounts not yet taken by work placed on a node.
struct FreeResources {
  cpus @0 :Float64;
  memoryMb @1 :UInt64;
  gpus @2 :UInt32;
}

struct NodeLoad {
  loadAverage1m @0 :Float64;  # the OS's one-minute load average
  memoryUsedMb @1 :UInt64;    # memory in use on the machine
  runningTasks @2 :UInt32;
}

struct RegisterNodeRequest {
  nodeId @0 :Text;        # stable across restarts (kept in the node's data dir)
  name @1 :Text;          # human name, unique among live (alive, suspect, draining) nodes
  incarnation @2 :UInt64; # grows at every start and after being declared dead
  addresses @3 :List(Text);
  resources @4 :Resources;
  labels @5 :List(Label);
  version @6 :Text;       # Troupe version of the node
}

struct RegisterNodeReply {
  heartbeatIntervalMs @0 :UInt32;  # how often the node must heartbeat
  draining @1 :Bool;               # the node is (still) draining
}

struct Heartbeat {
  nodeId @0 :Text;
  incarnation @1 :UInt64;
  sequence @2 :UInt64;    # grows by one per heartbeat within an incarnation (0: no replay check)
  load @3 :NodeLoad;
  free @4 :FreeResources;
}

# Why the head could not accept a heartbeat, and what the node must do.
enum HeartbeatRejectReason {
  unknownNode @0;       # the head does not know this node (e.g. it restarted): register again
  declaredDead @1;      # the head declared this incarnation dead: register with a new incarnation
  staleIncarnation @2;  # a newer incarnation of this node id is registered: this process must stop
}

struct HeartbeatRejected {
  reason @0 :HeartbeatRejectReason;
  knownIncarnation @1 :UInt64;  # the incarnation the head has for this node id (0 if none)
}

struct DeregisterNode {
  nodeId @0 :Text;
  incarnation @1 :UInt64;
  reason @2 :Text;
}

enum NodeState {
  alive @0;
  suspect @1;   # heartbeats are late; not yet declared dead
  dead @2;      # declared dead; its incarnation is finished
  draining @3;  # alive, finishing its work, taking no new work
  left @4;      # deregistered cleanly
}

struct NodeStatus {
  nodeId @0 :Text;
  name @1 :Text;
  state @2 :NodeState;
  incarnation @3 :UInt64;
  addresses @4 :List(Text);
  resources @5 :Resources;
  free @6 :FreeResources;
  load @7 :NodeLoad;
  labels @8 :List(Label);
  lastHeartbeatMsAgo @9 :UInt64;
  stateSinceMsAgo @10 :UInt64;  # since the liveness (alive, suspect, dead, left) last changed
                                # or a new incarnation registered; a drain does not reset it
  draining @11 :Bool;           # drain requested (also when suspect or dead)
  isHead @12 :Bool;             # the node agent inside the head process
  version @13 :Text;
}

struct ClusterStatusRequest {}

struct ClusterStatusReply {
  headVersion @0 :Text;
  headUptimeMs @1 :UInt64;
  nodesAlive @2 :UInt32;
  nodesSuspect @3 :UInt32;
  nodesDead @4 :UInt32;
  nodesDraining @5 :UInt32;
  nodesLeft @6 :UInt32;
  total @7 :FreeResources;      # registered (not free) resources of alive and draining nodes
  available @8 :FreeResources;  # free amounts on alive, non-draining nodes
  malformedMessages @9 :UInt64; # messages refused since the head started: undecodable frames,
                                # wrong ZeroMQ part counts, and kinds the head does not serve
}

struct NodeListRequest {}

struct NodeListReply {
  nodes @0 :List(NodeStatus);
}

struct DrainNodeRequest {
  node @0 :Text;   # node name or id
  drain @1 :Bool;  # true: drain; false: undrain
}

struct DrainNodeReply {
  node @0 :NodeStatus;
}

struct RemoveNodeRequest {
  node @0 :Text;  # node name or id; the node must be dead or left
}

struct RemoveNodeReply {
  nodeId @0 :Text;  # the node that was removed
  name @1 :Text;
}
