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
#   FetchArtifactRequest -> FetchArtifactReply      (answered by the node itself)
#   PublishArtifactRequest -> PublishArtifactReply  (answered by the node itself)
#   RegisterModelRequest -> RegisterModelReply      (relayed to the head; task 0 of a train job)
#   AssembleDatasetRequest -> AssembleDatasetReply  (relayed to the head; any task of the job)
# Client flow (roles admin and submit; a submit key sees only its own tenant's jobs):
#   JobMetricsRequest -> JobMetricsReply
#
# Evolution rules as in envelope.capnp: append only, never renumber.
@0xe6b1c0d2a3f49587;

using Cxx = import "/capnp/c++.capnp";
using Artifacts = import "artifacts.capnp";
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
    fetchArtifactRequest @7 :FetchArtifactRequest;
    fetchArtifactReply @8 :FetchArtifactReply;
    publishArtifactRequest @9 :PublishArtifactRequest;
    publishArtifactReply @10 :PublishArtifactReply;
    registerModelRequest @11 :RegisterModelRequest;
    registerModelReply @12 :RegisterModelReply;
    assembleDatasetRequest @13 :AssembleDatasetRequest;
    assembleDatasetReply @14 :AssembleDatasetReply;
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

# Rank -> its node, answered by the node: a verified copy of an artifact of the job's tenant in
# the node's artifact cache (its data dir), fetched from the head with the node's key when not
# there yet. The cache is shared by every attempt and job on the node: a copy already there is
# used as it is (while its bytes still hash to its digest).
struct FetchArtifactRequest {
  attemptId @0 :Text;
  name @1 :Text;    # the latest version of this name; or empty, with `digest`
  digest @2 :Text;  # a version of `name`, or (name empty) any artifact with these bytes
  timeoutMs @3 :UInt32;  # 1 to 3600000: the node answers `timeout` once it passed
  # A byte range instead of the whole artifact: bytes [offset, offset + length), cut at its end.
  # Length 0 (and offset 0): the whole, as above. A range is fetched for this attempt alone
  # (never reused; a copy in the cache is held by it until it ends), each block checked by the
  # head against its upload checksums; an offset past the end is refused (invalid_request).
  offset @4 :UInt64;
  length @5 :UInt64;
}

struct FetchArtifactReply {
  artifact @0 :Artifacts.ArtifactInfo;  # the whole artifact's (its size, digest)
  path @1 :Text;  # the absolute path of the copy (or the range) on the node; the rank reads it
}

# Rank -> its node, answered by the node once the head stored the file: uploads a regular file
# inside the attempt's working directory (symlinks resolved) as a version of `name`, with the
# job's tenant and job id. Kind checkpoint or model only; the name starts with "<job id>/"
# (docs/training.md: a job's checkpoints are versions of "<job id>/checkpoint", its model
# "<job id>/model").
struct PublishArtifactRequest {
  attemptId @0 :Text;
  path @1 :Text;  # absolute, or relative to the attempt's working directory
  name @2 :Text;
  kind @3 :Artifacts.ArtifactKind;
  timeoutMs @4 :UInt32;  # as for FetchArtifactRequest
}

struct PublishArtifactReply {
  artifact @0 :Artifacts.ArtifactInfo;
}

# Rank -> node -> head: registers the job's trained model. Only task 0 of a train job may send
# it. The head takes the name (the spec's output.model_name), tenant, job id and parameters (the
# train spec) from the job; the digest must be a model artifact that job published.
# Idempotent per job: sent again, it gets the version it got first.
struct RegisterModelRequest {
  attemptId @0 :Text;
  artifactDigest @1 :Text;
  finalMetricsJson @2 :Text;  # JSON objects, at most 4 KiB each
  bestMetricsJson @3 :Text;
  datasetFingerprint @4 :Text;
  inputFeatures @5 :UInt32;  # the model's values per input row
  classes @6 :List(Text);    # a classifier's label of each output; none for regression
}

struct RegisterModelReply {
  name @0 :Text;
  version @1 :UInt32;
}

# One stored dataset to assemble from: the newest version of `name`, or the one with `digest`.
struct DatasetPart {
  name @0 :Text;
  digest @1 :Text;  # empty: the newest version
}

# Rank -> node -> head: the head makes the dataset `name` (a new version, of the job's tenant
# and id) from `parts` joined in order, as CSV: the header line once, from the first part; each
# other part's first line must equal it, and every part ends with a newline. Each part must be a
# dataset the job made, in its tenant. Once the result is stored, the parts are removed: every
# version the job made of each part's name, and each blob no other version has. Not idempotent:
# sent again, the parts are gone (notFound).
struct AssembleDatasetRequest {
  attemptId @0 :Text;
  name @1 :Text;                 # as for BeginUploadRequest; not one of the parts
  parts @2 :List(DatasetPart);   # 1 to 1024, each name once
  timeoutMs @3 :UInt32;          # 1 to 3600000: the node answers `timeout` once it passed
}

struct AssembleDatasetReply {
  artifact @0 :Artifacts.ArtifactInfo;
}
