// Plain C++ mirrors of messages/artifacts.capnp. Only the codec converts these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace troupe::msg {

enum class artifact_kind { dataset, checkpoint, model };

const char* to_string(artifact_kind kind);
// "dataset" -> artifact_kind::dataset; nullopt for any other text.
std::optional<artifact_kind> parse_artifact_kind(const std::string& text);

struct artifact_info {
  std::string name;
  std::string tenant;
  artifact_kind kind = artifact_kind::dataset;
  std::string digest;
  uint64_t size = 0;
  int64_t created_at_ms = 0;
  std::string job_id;
  bool operator==(const artifact_info& o) const {
    return name == o.name && tenant == o.tenant && kind == o.kind && digest == o.digest &&
           size == o.size && created_at_ms == o.created_at_ms && job_id == o.job_id;
  }
};

struct begin_upload_request {
  std::string name;
  std::string tenant;
  artifact_kind kind = artifact_kind::dataset;
  uint64_t size = 0;
  std::string digest;
  std::string job_id;
  bool operator==(const begin_upload_request& o) const {
    return name == o.name && tenant == o.tenant && kind == o.kind && size == o.size &&
           digest == o.digest && job_id == o.job_id;
  }
};

struct begin_upload_reply {
  std::string upload_id;
  uint64_t offset = 0;
  uint32_t chunk_bytes = 0;
  bool operator==(const begin_upload_reply& o) const {
    return upload_id == o.upload_id && offset == o.offset && chunk_bytes == o.chunk_bytes;
  }
};

struct upload_chunk_request {
  std::string upload_id;
  uint64_t offset = 0;
  std::string data;
  bool operator==(const upload_chunk_request& o) const {
    return upload_id == o.upload_id && offset == o.offset && data == o.data;
  }
};

struct upload_chunk_reply {
  uint64_t received = 0;
  bool operator==(const upload_chunk_reply& o) const { return received == o.received; }
};

struct commit_upload_request {
  std::string upload_id;
  bool operator==(const commit_upload_request& o) const { return upload_id == o.upload_id; }
};

struct commit_upload_reply {
  artifact_info artifact;
  bool operator==(const commit_upload_reply& o) const { return artifact == o.artifact; }
};

struct abort_upload_request {
  std::string upload_id;
  bool operator==(const abort_upload_request& o) const { return upload_id == o.upload_id; }
};

struct abort_upload_reply {
  bool operator==(const abort_upload_reply&) const { return true; }
};

struct list_artifacts_request {
  std::string tenant;
  bool all_versions = false;
  bool operator==(const list_artifacts_request& o) const {
    return tenant == o.tenant && all_versions == o.all_versions;
  }
};

struct list_artifacts_reply {
  std::vector<artifact_info> artifacts;
  bool operator==(const list_artifacts_reply& o) const { return artifacts == o.artifacts; }
};

struct download_chunk_request {
  std::string name;
  std::string tenant;
  std::string digest;
  uint64_t offset = 0;
  uint32_t max_bytes = 0;
  bool operator==(const download_chunk_request& o) const {
    return name == o.name && tenant == o.tenant && digest == o.digest && offset == o.offset &&
           max_bytes == o.max_bytes;
  }
};

struct download_chunk_reply {
  artifact_info artifact;
  uint64_t offset = 0;
  std::string data;
  bool operator==(const download_chunk_reply& o) const {
    return artifact == o.artifact && offset == o.offset && data == o.data;
  }
};

// The envelope's `artifacts` member: one of the kinds above.
struct artifacts_message {
  std::variant<begin_upload_request, begin_upload_reply, upload_chunk_request, upload_chunk_reply,
               commit_upload_request, commit_upload_reply, abort_upload_request, abort_upload_reply,
               list_artifacts_request, list_artifacts_reply, download_chunk_request,
               download_chunk_reply>
      body;
  bool operator==(const artifacts_message& o) const { return body == o.body; }
};

}  // namespace troupe::msg
