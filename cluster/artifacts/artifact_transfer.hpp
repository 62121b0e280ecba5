// Moving one artifact between a file here and the head, in chunks over the artifacts protocol
// (messages/artifacts.capnp): the CLI (`troupe data put/get`) and the node-side cache use it.
//
// Both ways, up to chunks_in_flight chunks travel before the first of them is answered, so the
// head handles the next chunks while this side reads or writes one.
//
// Upload: the file's SHA-256 and size are declared first; the head checks every byte against
// them before the artifact becomes visible. Chunks go in order; when a reply is lost (or the
// head refuses a chunk that came after a lost one) the upload is begun again, which resumes it
// from the bytes the head has. Download: the first chunk says which version, and how long;
// bytes go in order to a temporary beside the target, hashed as they come; the file appears
// (fsynced, renamed) only when their SHA-256 is the artifact's digest, else nothing is left. A
// chunk whose reply is lost is asked for again (a resent chunk is idempotent on the head). Every
// wait is bounded by the caller's timeout, counted from when the chunk was sent.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "messages/envelope.hpp"

namespace troupe::transport {
class request_client;
}

namespace troupe::artifacts {

// The head, as a transfer speaks to it: `send` sends a request without waiting and returns a
// ticket; `await` waits at most the time given for the body of that ticket's reply, nullopt when
// none came (the ticket is then done: a later reply to it is dropped). Several tickets may be
// in flight, awaited in any order.
struct artifact_link {
  std::function<uint64_t(msg::artifacts_message)> send;
  std::function<std::optional<msg::body>(uint64_t ticket, std::chrono::milliseconds)> await;
};

// A link over one connection to the head.
artifact_link link_over(transport::request_client& client);

// Chunks of one transfer sent (or asked for) and not yet answered, at most.
inline constexpr size_t chunks_in_flight = 8;

struct transfer_failure {
  enum class kind {
    head_error,  // the head refused, or sent bytes that do not match their digest
    no_answer,   // no reply in time
    local,       // a file here cannot be read or written
  };
  transfer_failure::kind kind = kind::head_error;
  std::string message;
  // The head's code for what it refused (head_error); timeout for no_answer; else internal.
  msg::error_code code = msg::error_code::internal;
};

template <class T>
using transfer_result = std::variant<T, transfer_failure>;

// Told how many of `total` bytes are done, after each chunk.
using progress_fn = std::function<void(uint64_t done, uint64_t total)>;

struct upload_spec {
  std::string path;  // the file to send
  std::string name;
  std::string tenant;  // empty: the key's own (submit) or "default"
  msg::artifact_kind kind = msg::artifact_kind::dataset;
  std::string job_id;
};

struct download_spec {
  std::string name;    // the latest version of this name; or empty, with `digest`
  std::string tenant;  // as for upload_spec
  std::string digest;  // a version, or (name empty) any artifact with these bytes
  // download_file: bytes [offset, offset + length) of it, cut at its end; length 0: the whole.
  uint64_t offset = 0;
  uint64_t length = 0;
};

transfer_result<msg::artifact_info> upload_file(const artifact_link& link, const upload_spec& spec,
                                                std::chrono::milliseconds timeout,
                                                const progress_fn& progress = {});

// The version `spec` names, as the head describes it (its first byte is all that moves).
transfer_result<msg::artifact_info> describe(const artifact_link& link, const download_spec& spec,
                                             std::chrono::milliseconds timeout);

// Writes the version (or the byte range) `spec` names to `path`, through `path`.part. The whole
// is checked against its digest; a range cannot be, and stands on the head's checks of every
// block it reads (and the link's authentication). The head refuses an offset past the end.
transfer_result<msg::artifact_info> download_file(const artifact_link& link,
                                                  const download_spec& spec,
                                                  const std::string& path,
                                                  std::chrono::milliseconds timeout,
                                                  const progress_fn& progress = {});

}  // namespace troupe::artifacts
