// The head's artifact service: the artifacts area of the protocol (messages/artifacts.capnp;
// docs/artifacts.md). It keeps the blobs on the head's disk (cluster/artifacts/blob_store) and
// one store row per version of an artifact; a name means its newest version.
//
// An upload's life: begun (open, bytes arriving in order) -> committed (its SHA-256 matched:
// the blob is published, its row stored, then it is answered and visible) | refused (digest
// mismatch: its bytes are deleted, nothing stored) | aborted | dropped (idle longer than
// upload_idle: a dead uploader's bytes are deleted).
//
// Retention: a train job keeps only the newest checkpoint.keep versions of each checkpoint it
// publishes (the job service has its spec). Once a new one is committed, the older ones' rows
// are removed from the store, then the blobs no remaining version refers to are deleted, and
// only then is the commit answered. A crash between leaves blobs without rows: the next start
// sweeps every blob no stored version refers to.
//
// Roles: admin may do everything; a submit key uploads only datasets and models (of no job) of its
// own tenant, and reads and lists only its own tenant's artifacts; a node key reads and lists every
// artifact and uploads checkpoints, models and, for a job (jobId), datasets (a predict job's
// result). An upload is continued only by the key that
// began it.
//
// Blocking file I/O (chunk writes, fsync at commit, checked reads) runs on this actor's own
// thread (it is detached), never on CAF's shared workers.
//
// Other head actors ask which stored versions of a tenant have some bytes (the training
// service checks that a model to register is one its job published):
//   (artifact_atom, tenant, digest) -> artifact_versions
// and, for a rank the training service checked to speak for a current attempt of the job
// (AssembleDatasetRequest), for a dataset made of parts the job published:
//   (assemble_atom, dataset_assembly) -> assembly_result
// The parts are joined on this actor's thread (cluster/artifacts/dataset_assembly.hpp); the
// result's row and the removal of every version the job made of the parts' names are stored in
// one write, then the parts' blobs no other version refers to are deleted, and only then is it
// answered. A part named by an assembly under way is refused (conflict) until it ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "actors/transport/wire_endpoint.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "cluster/store/store.hpp"
#include "messages/training.hpp"

namespace troupe::artifact_service {

struct artifact_service_deps {
  actors::wire_endpoint_ptr endpoint;  // the head's ROUTER
  caf::actor store;                    // the store actor
  caf::actor jobs;                     // the job service: how many checkpoint versions a job keeps
  std::vector<store::artifact_record> artifacts;  // loaded from the store at start
  std::shared_ptr<artifacts::blob_store> blobs;   // the bytes, on the head's disk
  uint64_t max_artifact_bytes = 0;
  uint32_t chunk_bytes = 0;  // the most bytes of one upload or download chunk
  std::chrono::milliseconds upload_idle{60'000};
  std::string self_name;  // sender name in replies
};

caf::actor spawn_artifact_service(caf::actor_system& system, artifact_service_deps deps);

struct artifact_versions {
  std::vector<msg::artifact_info> versions;
};

struct dataset_assembly {
  std::string tenant;  // the job's
  std::string job_id;
  std::string name;  // of the result
  std::vector<msg::dataset_part> parts;
};

struct assembly_result {
  std::variant<msg::artifact_info, msg::error> outcome;  // the result's new version
};

}  // namespace troupe::artifact_service

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::artifact_service::artifact_versions)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::artifact_service::dataset_assembly)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::artifact_service::assembly_result)
