// A checkpoint as one byte blob, and the directory that keeps the last few on disk.
//
// Blob: "TRPCKPT1" | sha256 of everything after it (32 bytes) | state size (8 bytes, little
// endian) | state (JSON: position, counters) | tensors (a torch archive: model, optimizer, RNGs).
// A blob whose digest does not match, or that is cut short, is refused: a checkpoint is only
// ever resumed exactly as it was written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "messages/error.hpp"

namespace troupe::training {

struct checkpoint_contents {
  nlohmann::json state;
  std::string tensors;
};

std::string seal_checkpoint(const checkpoint_contents& contents);

// invalid_request when the blob is not a checkpoint, is damaged or cut short.
std::variant<checkpoint_contents, msg::error> open_checkpoint(const std::string& blob);

// checkpoint-<step>.ckpt files in one directory, each written atomically (temporary, fsync,
// rename, fsync of the directory); only the newest `keep` stay.
class checkpoint_directory {
 public:
  checkpoint_directory(std::string path, int64_t keep);

  // Writes the blob of global step `step`, then removes the oldest beyond `keep`. Returns the
  // file's path; throws host::file_error when it cannot write.
  std::string save(const std::string& blob, int64_t step);

  // The newest checkpoint's path, if any.
  std::optional<std::string> latest() const;

 private:
  std::string path_;
  int64_t keep_;
};

}  // namespace troupe::training
