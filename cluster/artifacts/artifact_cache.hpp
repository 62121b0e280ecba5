// A node's copies of the artifacts its jobs need, in its data dir (DIR/<digest>), fetched from
// the head with the node's key, verified, kept and reused by every job on the node; and the way
// a node sends the head a checkpoint or model one of its ranks made. A plain blocking class:
// whoever drives it (the node agent, for its ranks) calls it off any actor's thread.
//
// A copy is used only while its bytes still hash to its name: one damaged on disk is fetched
// again. Not thread-safe.
#pragma once

#include <chrono>
#include <string>

#include "cluster/artifacts/artifact_transfer.hpp"

namespace troupe::artifacts {

struct cached_artifact {
  msg::artifact_info artifact;
  std::string path;  // DIR/<digest>
};

class artifact_cache {
 public:
  // Creates `dir` when needed; throws std::runtime_error when it cannot.
  artifact_cache(std::string dir, artifact_caller call, std::chrono::milliseconds timeout);

  // A verified local copy of the version `spec` names (the head says which), fetched when
  // there is none.
  transfer_result<cached_artifact> fetch(const download_spec& spec);
  // Uploads a file made here (kind checkpoint or model).
  transfer_result<msg::artifact_info> upload(const upload_spec& spec);

  // Fetches that found a verified copy already here.
  size_t reused() const { return reused_; }

 private:
  std::string dir_;
  artifact_caller call_;
  std::chrono::milliseconds timeout_;
  size_t reused_ = 0;
};

}  // namespace troupe::artifacts
