// The head's artifact bytes on disk, content-addressed by SHA-256 (docs/artifacts.md):
//   ROOT/blobs/<digest>        the bytes
//   ROOT/blobs/<digest>.sums   the block_checksum of each block_bytes block of them, in order
//   ROOT/uploads/<id>, <id>.sums   an upload not committed yet
// A blob appears only by rename, once its bytes were fsynced and matched the declared digest.
// Every block read is checked against the checksum recorded at upload, so a blob damaged on
// disk is refused (internal), never served. A blob goes only once no stored version refers to
// it: its row is removed first, so a crash in between leaves a blob no row refers to, which the
// next start's sweep removes. Memory per upload and per read is bounded by a
// block plus the bytes asked for, whatever the blob's size.
//
// Not thread-safe: one owner (the head's artifact service).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "cluster/artifacts/block_checksum.hpp"
#include "cluster/artifacts/digest.hpp"
#include "cluster/artifacts/staged_file.hpp"

namespace troupe::artifacts {

inline constexpr uint64_t block_bytes = 64 * 1024;

// The bytes of one upload as they arrive, in order, hashed as they are written.
class blob_upload {
 public:
  // Bytes go to `data_path`, checksums to `blocks_path`; a commit publishes into `blobs_dir`.
  blob_upload(std::string data_path, std::string blocks_path, std::string blobs_dir);

  uint64_t received() const { return received_; }
  std::optional<msg::error> append(std::string_view bytes);
  // Publishes the blob under `digest` when the bytes' SHA-256 is `digest`; else invalid_request
  // and nothing is published. The upload is spent either way.
  std::optional<msg::error> commit(const std::string& digest);
  // Publishes the blob under the SHA-256 of the bytes written, and returns it: for bytes the
  // head wrote itself (an assembled dataset). The upload is spent either way.
  std::variant<std::string, msg::error> commit_as_written();

 private:
  std::optional<msg::error> close_block();
  std::optional<msg::error> publish(const std::string& digest);

  std::string blobs_dir_;
  staged_file data_;
  staged_file blocks_;
  sha256 whole_;
  block_checksum block_;
  uint64_t in_block_ = 0;
  uint64_t received_ = 0;
};

class blob_store {
 public:
  // Creates the folders under `root`; removes what uploads a previous process left (their
  // hashing state died with it); gives blobs stored with SHA-256 block checksums (a
  // `<digest>.blocks` file, before 2026-12-03) their block_checksum ones. Throws
  // std::runtime_error when `root` cannot be made.
  explicit blob_store(std::string root);
  // How many blobs got new block checksums at construction.
  size_t converted_at_start() const { return converted_at_start_; }

  // A new upload, its files named after `upload_id` (hex).
  std::unique_ptr<blob_upload> begin(const std::string& upload_id) const;

  // Bytes [offset, offset + length) of the blob `digest` of `size` bytes, checked block by
  // block: not_found when it is missing, internal when a block does not match its checksum.
  std::variant<std::string, msg::error> read(const std::string& digest, uint64_t size,
                                             uint64_t offset, uint64_t length) const;

  std::string blob_path(const std::string& digest) const;
  std::string sums_path(const std::string& digest) const;

  // Deletes the blob `digest` and its checksums (nothing when they are not there).
  std::optional<msg::error> remove(const std::string& digest) const;
  // Deletes every blob whose digest is not in `referenced`; returns how many it deleted.
  size_t sweep(const std::set<std::string>& referenced) const;

 private:
  std::string root_;
  size_t converted_at_start_ = 0;
};

}  // namespace troupe::artifacts
