# The one message that travels between Troupe processes. Every ZeroMQ message carries
# exactly one Envelope in Cap'n Proto's standard (unpacked) stream framing.
#
# Evolution rules: only append fields and union members; never renumber; retire a field by
# renaming it obsoleteX. A receiver that meets a union member it does not know answers
# `unimplemented` carrying the member's discriminant.
@0xa33a9871cfc9b02d;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

using Cluster = import "cluster.capnp";
using Security = import "security.capnp";
using Jobs = import "jobs.capnp";
using Artifacts = import "artifacts.capnp";
using Models = import "models.capnp";
using Training = import "training.capnp";
using Inference = import "inference.capnp";

const protocolVersion :UInt16 = 1;

struct Envelope {
  protocolVersion @0 :UInt16;  # must equal `protocolVersion` above
  requestId @1 :UInt64;        # chosen by the requester, echoed in the reply; idempotency key
  sender @2 :Text;             # node id, or a free-form client name

  body :union {
    error @3 :Error;
    unimplemented @4 :Unimplemented;

    registerNodeRequest @5 :Cluster.RegisterNodeRequest;
    registerNodeReply @6 :Cluster.RegisterNodeReply;
    heartbeat @7 :Cluster.Heartbeat;
    heartbeatRejected @8 :Cluster.HeartbeatRejected;
    deregisterNode @9 :Cluster.DeregisterNode;
    clusterStatusRequest @10 :Cluster.ClusterStatusRequest;
    clusterStatusReply @11 :Cluster.ClusterStatusReply;
    nodeListRequest @12 :Cluster.NodeListRequest;
    nodeListReply @13 :Cluster.NodeListReply;
    drainNodeRequest @14 :Cluster.DrainNodeRequest;
    drainNodeReply @15 :Cluster.DrainNodeReply;
    removeNodeRequest @16 :Cluster.RemoveNodeRequest;
    removeNodeReply @17 :Cluster.RemoveNodeReply;

    # From here on, one member per area; each area has its own schema and union.
    security @18 :Security.SecurityMessage;
    jobs @19 :Jobs.JobsMessage;
    artifacts @20 :Artifacts.ArtifactsMessage;
    models @21 :Models.ModelsMessage;
    training @22 :Training.TrainingMessage;
    inference @23 :Inference.InferenceMessage;
  }
}

# Chosen by what the caller should do; the detail goes in `message`.
enum ErrorCode {
  invalidRequest @0;  # malformed or semantically wrong: do not retry as is
  notFound @1;        # the named thing does not exist
  conflict @2;        # the request contradicts the current state (e.g. a name held by a live node)
  overloaded @3;      # try again later, with backoff
  unavailable @4;     # the service cannot answer now (e.g. its store failed): retry later
  timeout @5;         # the operation did not finish in time
  internal @6;        # a bug on the answering side
  permissionDenied @7;  # the sender's key may not send this request (or not for that node)
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
}

# Reply to an envelope whose body kind the receiver does not know.
struct Unimplemented {
  bodyOrdinal @0 :UInt16;  # the union discriminant as received (members count from 0: error = 0)
}
