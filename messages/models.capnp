# The models area: the model registry's versions of trained models, and their stages
# (docs/models.md). Train jobs register their versions inside the head; clients list, read and
# promote them. docs/protocol.md describes each request.
#
# Client flows (roles admin and submit; a submit key sees and promotes only its own tenant's
# models, and gets notFound for any other):
#   ListModelsRequest -> ListModelsReply    GetModelRequest -> GetModelReply
#   PromoteModelRequest -> PromoteModelReply    ImportModelRequest -> ImportModelReply
#
# Evolution rules as in envelope.capnp: append only, never renumber.
@0xb8c64f2e91d3a705;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

struct ModelsMessage {
  union {
    listModelsRequest @0 :ListModelsRequest;
    listModelsReply @1 :ListModelsReply;
    getModelRequest @2 :GetModelRequest;
    getModelReply @3 :GetModelReply;
    promoteModelRequest @4 :PromoteModelRequest;
    promoteModelReply @5 :PromoteModelReply;
    importModelRequest @6 :ImportModelRequest;
    importModelReply @7 :ImportModelReply;
  }
}

# At most one version of a model is in staging and one in production: promoting a version to
# either moves the one there before to archived.
enum ModelStage {
  none @0;
  staging @1;
  production @2;
  archived @3;
}

struct ListModelsRequest {
  tenant @0 :Text;   # empty: every tenant the key may see
  limit @1 :UInt32;  # the first `limit` models by name; 0: 1000
}

struct ListModelsReply {
  models @0 :List(ModelSummary);  # by name
}

struct ModelSummary {
  name @0 :Text;
  tenant @1 :Text;
  latestVersion @2 :UInt32;      # the newest version
  versions @3 :UInt32;           # how many it has
  stagingVersion @4 :UInt32;     # the version in staging; 0: none
  productionVersion @5 :UInt32;  # the version in production; 0: none
  updatedAtMs @6 :Int64;         # its last registration or stage change, Unix time in ms
}

# One model: every version (version 0 and stage none), one version (version N), or the version
# in a stage (stage staging or production).
struct GetModelRequest {
  name @0 :Text;
  version @1 :UInt32;
  stage @2 :ModelStage;
}

struct GetModelReply {
  model @0 :ModelSummary;
  # Newest first. Every version: the newest 50, without paramsJson; one version: all of it.
  versions @1 :List(ModelVersion);
  # Oldest first: the stage changes of the versions above (every version: the newest 100).
  stageChanges @2 :List(StageChange);
}

struct ModelVersion {
  name @0 :Text;
  version @1 :UInt32;
  tenant @2 :Text;
  jobId @3 :Text;               # the train job that made it
  artifactDigest @4 :Text;      # sha256 of its artifact in the artifact store, lowercase hex
  finalMetricsJson @5 :Text;    # the metrics at the end of training, a JSON object
  bestMetricsJson @6 :Text;     # the best epoch's metrics, a JSON object
  paramsJson @7 :Text;          # the hyper-parameters: the train spec, a JSON object
  datasetFingerprint @8 :Text;
  stage @9 :ModelStage;
  createdAtMs @10 :Int64;
  # Its signature: what one input row is and what the outputs per row mean.
  inputFeatures @11 :UInt32;     # values per input row; 0: not declared (the model checks)
  outputKind @12 :OutputKind;
  classes @13 :List(Text);       # a classifier's label of each output, in output order
  source @14 :ModelSource;
}

enum OutputKind {
  logits @0;         # one score per class: served as their softmax
  probabilities @1;  # one probability per class, as the model gives them
  values @2;         # the predicted values (regression)
}

enum ModelSource {
  trained @0;   # registered by a train job of this cluster (jobId set)
  imported @1;  # a TorchScript file imported with ImportModelRequest (jobId empty)
}

struct StageChange {
  version @0 :UInt32;
  fromStage @1 :ModelStage;
  toStage @2 :ModelStage;
  changedBy @3 :Text;  # the id of the key that asked
  atMs @4 :Int64;
}

# Moves a version to a stage (none, staging, production or archived). Stored before answered.
struct PromoteModelRequest {
  name @0 :Text;
  version @1 :UInt32;
  stage @2 :ModelStage;
}

struct PromoteModelReply {
  version @0 :ModelVersion;          # as it is now
  changes @1 :List(StageChange);     # the changes made; empty when it was in that stage already
}

# Imports a model trained elsewhere: the TorchScript file, uploaded before as an artifact of kind
# model (the artifacts area), becomes the model's next version with source imported, params and
# metrics `{}`. Idempotent per name and digest: importing the same artifact into the same model
# again gets the version it got first. A model belongs to one tenant: importing into another
# tenant's name is a conflict.
struct ImportModelRequest {
  name @0 :Text;
  tenant @1 :Text;           # empty: the key's tenant (submit), else "default"
  artifactDigest @2 :Text;   # a model artifact of that tenant
  inputFeatures @3 :UInt32;  # 0 to 65,536; 0: not declared
  outputKind @4 :OutputKind;
  classes @5 :List(Text);    # at most 10,000 distinct labels of 1 to 200 bytes; none for values
}

struct ImportModelReply {
  version @0 :ModelVersion;  # as stored
}
