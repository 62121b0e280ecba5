// A node's copies of the artifacts its jobs need, in its data dir (DIR/<digest>), fetched from
// the head with the node's key, verified, kept and reused by every job on the node; and the way
// a node sends the head a checkpoint or model one of its ranks made. A plain blocking class:
// whoever drives it (the node agent, for its ranks) calls it off any actor's thread.
//
// A copy is used only while its bytes still hash to its name: one damaged on disk is fetched
// again. The copies take at most `limit_bytes`: when a new one would go past it, the least
// recently used copies are deleted first, but never one a holder (a running attempt) fetched
// and has not released; a copy that does not fit beside the held ones is refused (overloaded).
// Copies a previous process left are kept, and count, as the least recently used. Not
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "cluster/artifacts/artifact_transfer.hpp"

namespace troupe::artifacts {

struct cached_artifact {
  msg::artifact_info artifact;
  std::string path;  // DIR/<digest>, or DIR/<digest>.<begin>-<end> for a byte range
};

class artifact_cache {
 public:
  // Creates `dir` when needed and takes stock of the copies there; throws std::runtime_error
  // when it cannot.
  artifact_cache(std::string dir, artifact_link link, std::chrono::milliseconds timeout,
                 uint64_t limit_bytes);

  // A verified local copy of the version `spec` names (the head says which), fetched when
  // there is none; held for `holder` until released. With a byte range (spec.length), a copy
  // of those bytes alone, fetched each time (it cannot be checked against the digest later),
  // held alike and counted in the limit; a new process removes it.
  transfer_result<cached_artifact> fetch(const download_spec& spec, const std::string& holder);
  // Releases what every holder that `ended` says has ended holds.
  void release_ended(const std::function<bool(const std::string& holder)>& ended);
  // Uploads a file made here (kind checkpoint or model).
  transfer_result<msg::artifact_info> upload(const upload_spec& spec);

  // Fetches that found a verified copy already here.
  size_t reused() const { return reused_; }
  // The bytes the copies here take.
  uint64_t used_bytes() const { return used_; }

 private:
  struct copy {
    uint64_t size = 0;
    uint64_t last_used = 0;  // a count: higher is more recent
    std::set<std::string> holders;
  };

  void take_stock();
  void forget(const std::string& key);
  // Deletes unheld copies, least recently used first, until `size` more bytes fit; whether
  // they do.
  bool make_room(uint64_t size);
  // Enters the copy DIR/`key` of `size` bytes (of `artifact`) as held by `holders` too.
  cached_artifact keep(const std::string& key, uint64_t size, const msg::artifact_info& artifact,
                       std::set<std::string> holders);
  transfer_result<cached_artifact> fetch_range(const download_spec& spec,
                                               const msg::artifact_info& artifact,
                                               const std::string& holder);
  // When `size` more bytes cannot fit beside the held copies: why.
  transfer_failure no_room(uint64_t size) const;

  std::string dir_;
  artifact_link link_;
  std::chrono::milliseconds timeout_;
  uint64_t limit_;
  std::map<std::string, copy> copies_;  // by file name: the digest (or digest.begin-end)
  uint64_t used_ = 0;
  uint64_t uses_ = 0;
  size_t reused_ = 0;
};

}  // namespace troupe::artifacts
