# The artifacts area: datasets, checkpoints and models kept by the head, content-addressed by
# their SHA-256, moved in chunks over this protocol so that no shared filesystem is needed.
# docs/protocol.md describes each flow and who may send it; docs/artifacts.md the store.
#
# Upload:   BeginUploadRequest -> BeginUploadReply, then UploadChunkRequest -> UploadChunkReply
#           for each chunk in order, then CommitUploadRequest -> CommitUploadReply (or
#           AbortUploadRequest -> AbortUploadReply). Only the key that began an upload may
#           continue it; an upload left idle is dropped by the head.
# Download: DownloadChunkRequest -> DownloadChunkReply, one per chunk, by name or digest.
# List:     ListArtifactsRequest -> ListArtifactsReply.
#
# Evolution rules as in envelope.capnp: append only, never renumber.
@0xf59d870f8609e4aa;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

struct ArtifactsMessage {
  union {
    beginUploadRequest @0 :BeginUploadRequest;
    beginUploadReply @1 :BeginUploadReply;
    uploadChunkRequest @2 :UploadChunkRequest;
    uploadChunkReply @3 :UploadChunkReply;
    commitUploadRequest @4 :CommitUploadRequest;
    commitUploadReply @5 :CommitUploadReply;
    abortUploadRequest @6 :AbortUploadRequest;
    abortUploadReply @7 :AbortUploadReply;
    listArtifactsRequest @8 :ListArtifactsRequest;
    listArtifactsReply @9 :ListArtifactsReply;
    downloadChunkRequest @10 :DownloadChunkRequest;
    downloadChunkReply @11 :DownloadChunkReply;
  }
}

enum ArtifactKind {
  dataset @0;
  checkpoint @1;
  model @2;
}

# One stored version of an artifact: a name of a tenant mapped to the digest of its bytes.
struct ArtifactInfo {
  name @0 :Text;
  tenant @1 :Text;
  kind @2 :ArtifactKind;
  digest @3 :Text;       # SHA-256 of the bytes, 64 lowercase hex digits
  size @4 :UInt64;       # bytes
  createdAtMs @5 :Int64; # Unix time in ms
  jobId @6 :Text;        # the job that made it; empty when uploaded by a user
}

# Starts (or resumes) an upload of `size` bytes whose SHA-256 is `digest`. Beginning again with
# the same key, tenant, name, size and digest while that upload is open resumes it.
struct BeginUploadRequest {
  name @0 :Text;     # 1-200 of A-Z a-z 0-9 . _ - / ; not starting with . or /
  tenant @1 :Text;   # empty: the key's tenant (submit), else "default"
  kind @2 :ArtifactKind;
  size @3 :UInt64;   # at most the head's artifact_max_bytes
  digest @4 :Text;
  jobId @5 :Text;
}

struct BeginUploadReply {
  uploadId @0 :Text;    # 32 lowercase hex digits
  offset @1 :UInt64;    # the next byte the head expects (0, or more when resumed)
  chunkBytes @2 :UInt32;  # the most bytes one UploadChunkRequest may carry
}

# Bytes [offset, offset + size of data) of the upload. Chunks come in order: an offset past the
# bytes received is a conflict; a chunk the head already has (a resend) changes nothing.
struct UploadChunkRequest {
  uploadId @0 :Text;
  offset @1 :UInt64;
  data @2 :Data;
}

struct UploadChunkReply {
  received @0 :UInt64;  # bytes received so far
}

# Makes the upload visible once every byte came and their SHA-256 is the declared one; a
# mismatch is refused (invalidRequest) and the upload dropped, so nothing is stored. The reply
# comes once the artifact is stored.
struct CommitUploadRequest {
  uploadId @0 :Text;
}

struct CommitUploadReply {
  artifact @0 :ArtifactInfo;
}

struct AbortUploadRequest {
  uploadId @0 :Text;
}

struct AbortUploadReply {}

struct ListArtifactsRequest {
  tenant @0 :Text;       # empty: every tenant the key may see
  allVersions @1 :Bool;  # false: only the latest version of each name
}

struct ListArtifactsReply {
  artifacts @0 :List(ArtifactInfo);  # by tenant, then name, newest version first
}

# Bytes [offset, offset + maxBytes) of an artifact, by name (its latest version), by digest,
# or by both (that version). Every block the head reads is checked against the checksums it
# kept at upload; a damaged blob is refused, never served.
struct DownloadChunkRequest {
  name @0 :Text;
  tenant @1 :Text;    # empty: as for BeginUploadRequest
  digest @2 :Text;
  offset @3 :UInt64;
  maxBytes @4 :UInt32;  # 0 or more than the head sends at once: the head's chunk size
}

struct DownloadChunkReply {
  artifact @0 :ArtifactInfo;
  offset @1 :UInt64;
  data @2 :Data;  # empty at or past the end
}
