# The inference area: predictions from the replicas of serve jobs (docs/serving.md). The head's
# service router picks a replica of the service and sends the request to the replica's own
# prediction socket (named in its ReplicaReport; CURVE, admitting the head's key alone); the
# answer comes back on that connection. docs/protocol.md describes each flow.
#
# Client flows (roles admin and submit; a submit key sees and asks only its own tenant's
# services, and gets notFound for any other):
#   PredictRequest -> PredictReply
#   ListServicesRequest -> ListServicesReply
# Head -> replica (the head sends with `replica` set, to that replica's prediction socket):
#   PredictRequest -> PredictReply
# Replica flows (role rank on the rank link, only for the attempt its key was made for; relayed
# by the node with its node key, only for attempts placed on that node and not yet ended):
#   ResolveServiceRequest -> ResolveServiceReply
#   ReplicaReport -> ReplicaReportReply
#
# Evolution rules as in envelope.capnp: append only, never renumber.
@0xc47d2e8a91b3f605;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

struct InferenceMessage {
  union {
    predictRequest @0 :PredictRequest;
    predictReply @1 :PredictReply;
    listServicesRequest @2 :ListServicesRequest;
    listServicesReply @3 :ListServicesReply;
    resolveServiceRequest @4 :ResolveServiceRequest;
    resolveServiceReply @5 :ResolveServiceReply;
    replicaReport @6 :ReplicaReport;
    replicaReportReply @7 :ReplicaReportReply;
  }
}

# What a model version takes and gives (the registry's signature of the version).
struct ModelSignature {
  inputFeatures @0 :UInt32;
  outputs @1 :Outputs;
  classes @2 :List(Text);  # the label of each output of a classifier; else empty

  enum Outputs {
    logits @0;         # one score per class; replicas answer their softmax
    probabilities @1;  # one probability per class, as the model gives them
    values @2;         # regression: the predicted values
  }
}

# One or more rows for a service. A client leaves `replica` empty; the head sets it to the
# replica it sends the request to.
struct PredictRequest {
  service @0 :Text;        # the serve job's name
  version @1 :UInt32;      # 0: by the service's traffic split
  featureCount @2 :UInt32; # values per row, 1 to 65536
  features @3 :List(Float32);  # rows x featureCount, row-major; finite; 1 to 4096 rows
  routingKey @4 :Text;     # the same key gets the same version; empty: none
  replica @5 :Text;        # the replica's attempt id (head -> replica only)
}

struct PredictReply {
  modelName @0 :Text;
  modelVersion @1 :UInt32;
  rows @2 :UInt32;
  outputCount @3 :UInt32;      # values per row
  outputs @4 :List(Float32);   # rows x outputCount: probabilities (a classifier) or values
}

struct ListServicesRequest {
  tenant @0 :Text;  # empty: every tenant the key may see
}

struct ServedVersion {
  version @0 :UInt32;
  weight @1 :UInt32;         # its share of the traffic split
  readyReplicas @2 :UInt32;  # replicas that loaded it and answer
  signature @3 :ModelSignature;
  problem @4 :Text;          # why a replica could not load it; empty when none
  requests @5 :UInt64;       # predictions answered by this version since the head started
}

# What a service asks of its HTTP callers and what the head keeps of its answers: its spec's
# `auth` and `cache` (docs/jobs.md).
struct ServicePolicy {
  tokensRequired @0 :Bool;
  rateLimitPerS @1 :Float64;  # per (token, service); 0: none
  burst @2 :UInt32;
  cacheEntries @3 :UInt64;    # 0: no response cache
  cacheTtlS @4 :UInt32;
}

struct ServiceStatus {
  name @0 :Text;
  tenant @1 :Text;
  jobId @2 :Text;
  model @3 :Text;            # as the spec names it: NAME, NAME@VERSION or NAME@STAGE
  replicas @4 :UInt32;
  readyReplicas @5 :UInt32;
  versions @6 :List(ServedVersion);
  policy @7 :ServicePolicy;
}

struct ListServicesReply {
  services @0 :List(ServiceStatus);  # by name
}

# Replica -> node -> head: which versions the replica's service serves now. The replica polls it
# every second; a version it has not loaded yet it loads beside those it serves.
struct ResolveServiceRequest {
  attemptId @0 :Text;
}

struct VersionToLoad {
  version @0 :UInt32;
  artifactDigest @1 :Text;  # the model artifact; fetched through the node (FetchArtifactRequest)
  signature @2 :ModelSignature;
  weight @3 :UInt32;
}

struct ResolveServiceReply {
  modelName @0 :Text;
  versions @1 :List(VersionToLoad);
  service @2 :Text;  # the serve job's name (the node labels its replicas' figures with it)
}

# Replica -> node -> head: the versions the replica serves, and those it could not load, with
# the figures of each since the replica loaded it (the node and the head show them on /metrics).
struct LoadedVersion {
  version @0 :UInt32;
  problem @1 :Text;  # empty: loaded and serving; else why it could not be loaded
  queueDepth @2 :UInt32;  # requests waiting for a forward pass now
  # Forward passes by their rows: entry i counts the passes of more than 2^(i-1) and at most
  # 2^i rows (entry 0: one row), i = 0 to 12; extra entries are ignored.
  passesByRows @3 :List(UInt64);
  rowsForwarded @4 :UInt64;  # rows of all those passes
}

struct ReplicaReport {
  attemptId @0 :Text;
  versions @1 :List(LoadedVersion);
  # Where the head sends this replica its PredictRequests: a ZeroMQ ROUTER the replica binds
  # (tcp://HOST:PORT, HOST its node's address) with CURVE, whose public key (Z85) this is. Its
  # handshake admits only the head's key (the node gives the replica the head's public key).
  predictEndpoint @2 :Text;
  predictPublicKey @3 :Text;
}

struct ReplicaReportReply {}
