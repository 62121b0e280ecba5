# The training area: what a training job's rank processes say to the cluster. A rank speaks to
# its own node daemon over the rank link (a local ipc:// socket, CURVE with a key pair the node
# made for that one task attempt; docs/training.md); the node relays to the head over its own
# link. docs/protocol.md describes each flow.
#
# Rank flows (role rank on the rank link, only for the attempt its key was made for; relayed by
# the node with its node key, only for attempts placed on that node and not yet ended):
#   RendezvousSetRequest -> RendezvousSetReply
#   RendezvousGetRequest -> RendezvousGetReply (deferred until the key is set, or an error
#                           `timeout` once timeoutMs passed)
#   MetricsReport (one-way)
# Client flow (roles admin and submit; a submit key sees only its own tenant's jobs):
#   JobMetricsRequest -> JobMetricsReply
#
# Evolution rules as in envelope.capnp: append only, never renumber.
@0xe6b1c0d2a3f49587;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

struct TrainingMessage {
  union {
    rendezvousSetRequest @0 :RendezvousSetRequest;
    rendezvousSetReply @1 :RendezvousSetReply;
    rendezvousGetRequest @2 :RendezvousGetRequest;
    rendezvousGetReply @3 :RendezvousGetReply;
    metricsReport @4 :MetricsReport;
    jobMetricsRequest @5 :JobMetricsRequest;
    jobMetricsReply @6 :JobMetricsReply;
  }
}

# The head keeps one key-value space per job attempt generation: the tasks of one round of a
# gang share it, a retry of the gang starts with an empty one. Keys are 1 to 512 bytes of UTF-8,
# values at most 64 KiB; a space holds at most 1024 keys and 4 MiB. Setting a key again
# replaces its value.
struct RendezvousSetRequest {
  attemptId @0 :Text;  # the sending rank's attempt, "<job id>.<task index>.<attempt number>"
  key @1 :Text;
  value @2 :Data;
}

struct RendezvousSetReply {}

# Answered once the key is set in the attempt's space, at once when it is set already.
struct RendezvousGetRequest {
  attemptId @0 :Text;
  key @1 :Text;
  timeoutMs @2 :UInt32;  # 1 to 600000
}

struct RendezvousGetReply {
  value @0 :Data;
}

# One training step as rank 0 (or any rank) saw it.
struct StepMetric {
  epoch @0 :UInt32;
  step @1 :UInt64;              # steps since the start of training, from 1
  loss @2 :Float64;
  learningRate @3 :Float64;
  samplesPerSecond @4 :Float64;
  atMs @5 :Int64;               # Unix time in ms
}

# One finished epoch. The validation figures are there when the job has a validation set:
# accuracy for classification, mean absolute error for regression.
struct EpochMetric {
  epoch @0 :UInt32;
  trainLoss @1 :Float64;
  hasValLoss @2 :Bool;
  valLoss @3 :Float64;
  hasValAccuracy @4 :Bool;
  valAccuracy @5 :Float64;
  hasValMae @6 :Bool;
  valMae @7 :Float64;
  atMs @8 :Int64;
}

# Rank -> node -> head, one-way. A rank sends at most a few step reports a second (always the
# latest among those it skipped) and every epoch; at most 256 entries per report.
struct MetricsReport {
  attemptId @0 :Text;
  steps @1 :List(StepMetric);
  epochs @2 :List(EpochMetric);
}

# The metrics a job's ranks reported, oldest first, from `after` on.
struct JobMetricsRequest {
  jobId @0 :Text;
  after @1 :UInt64;     # entries already read (the previous reply's `next`); 0: from the start
  maxEntries @2 :UInt32; # 0: 10000 (also the most)
}

struct MetricEntry {
  seq @0 :UInt64;       # from 1, in the order the head stored them
  attemptId @1 :Text;
  union {
    step @2 :StepMetric;
    epoch @3 :EpochMetric;
  }
}

struct JobMetricsReply {
  entries @0 :List(MetricEntry);
  next @1 :UInt64;      # the `after` of the next request
  jobState @2 :Text;    # the job's state now: a follower stops once it is final and no entry came
}
