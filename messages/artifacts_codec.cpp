#include "messages/artifacts_codec.hpp"

#include "messages/codec_parts.hpp"

namespace troupe::msg::artifacts_codec {

using namespace parts;

void put_info(wire::ArtifactInfo::Builder b, const artifact_info& v) {
  b.setName(text(v.name));
  b.setTenant(text(v.tenant));
  b.setKind(cast_enum<wire::ArtifactKind>(v.kind));
  b.setDigest(text(v.digest));
  b.setSize(v.size);
  b.setCreatedAtMs(v.created_at_ms);
  b.setJobId(text(v.job_id));
}

artifact_kind get_kind(wire::ArtifactKind kind) { return checked_enum(kind, artifact_kind::model); }

artifact_info get_info(wire::ArtifactInfo::Reader r) {
  artifact_info v;
  v.name = str(r.getName());
  v.tenant = str(r.getTenant());
  v.kind = get_kind(r.getKind());
  v.digest = str(r.getDigest());
  v.size = r.getSize();
  v.created_at_ms = r.getCreatedAtMs();
  v.job_id = str(r.getJobId());
  return v;
}

namespace {

using Which = wire::ArtifactsMessage;

// Writes each kind into its union member.
struct writer {
  mutable Which::Builder b;  // a builder's setters are not const
  void operator()(const begin_upload_request& v) const {
    auto o = b.initBeginUploadRequest();
    o.setName(text(v.name));
    o.setTenant(text(v.tenant));
    o.setKind(cast_enum<wire::ArtifactKind>(v.kind));
    o.setSize(v.size);
    o.setDigest(text(v.digest));
    o.setJobId(text(v.job_id));
  }
  void operator()(const begin_upload_reply& v) const {
    auto o = b.initBeginUploadReply();
    o.setUploadId(text(v.upload_id));
    o.setOffset(v.offset);
    o.setChunkBytes(v.chunk_bytes);
  }
  void operator()(const upload_chunk_request& v) const {
    auto o = b.initUploadChunkRequest();
    o.setUploadId(text(v.upload_id));
    o.setOffset(v.offset);
    o.setData(data(v.data));
  }
  void operator()(const upload_chunk_reply& v) const {
    b.initUploadChunkReply().setReceived(v.received);
  }
  void operator()(const commit_upload_request& v) const {
    b.initCommitUploadRequest().setUploadId(text(v.upload_id));
  }
  void operator()(const commit_upload_reply& v) const {
    put_info(b.initCommitUploadReply().initArtifact(), v.artifact);
  }
  void operator()(const abort_upload_request& v) const {
    b.initAbortUploadRequest().setUploadId(text(v.upload_id));
  }
  void operator()(const abort_upload_reply&) const { b.initAbortUploadReply(); }
  void operator()(const list_artifacts_request& v) const {
    auto o = b.initListArtifactsRequest();
    o.setTenant(text(v.tenant));
    o.setAllVersions(v.all_versions);
  }
  void operator()(const list_artifacts_reply& v) const {
    auto list = b.initListArtifactsReply().initArtifacts(static_cast<unsigned>(v.artifacts.size()));
    for (unsigned i = 0; i < v.artifacts.size(); ++i) put_info(list[i], v.artifacts[i]);
  }
  void operator()(const download_chunk_request& v) const {
    auto o = b.initDownloadChunkRequest();
    o.setName(text(v.name));
    o.setTenant(text(v.tenant));
    o.setDigest(text(v.digest));
    o.setOffset(v.offset);
    o.setMaxBytes(v.max_bytes);
  }
  void operator()(const download_chunk_reply& v) const {
    auto o = b.initDownloadChunkReply();
    put_info(o.initArtifact(), v.artifact);
    o.setOffset(v.offset);
    o.setData(data(v.data));
  }
};

}  // namespace

void put(Which::Builder b, const artifacts_message& m) { std::visit(writer{b}, m.body); }

std::optional<artifacts_message> get(Which::Reader r) {
  switch (r.which()) {
    case Which::BEGIN_UPLOAD_REQUEST: {
      auto o = r.getBeginUploadRequest();
      return artifacts_message{begin_upload_request{str(o.getName()), str(o.getTenant()),
                                                    get_kind(o.getKind()), o.getSize(),
                                                    str(o.getDigest()), str(o.getJobId())}};
    }
    case Which::BEGIN_UPLOAD_REPLY: {
      auto o = r.getBeginUploadReply();
      return artifacts_message{
          begin_upload_reply{str(o.getUploadId()), o.getOffset(), o.getChunkBytes()}};
    }
    case Which::UPLOAD_CHUNK_REQUEST: {
      auto o = r.getUploadChunkRequest();
      return artifacts_message{
          upload_chunk_request{str(o.getUploadId()), o.getOffset(), bytes(o.getData())}};
    }
    case Which::UPLOAD_CHUNK_REPLY:
      return artifacts_message{upload_chunk_reply{r.getUploadChunkReply().getReceived()}};
    case Which::COMMIT_UPLOAD_REQUEST:
      return artifacts_message{
          commit_upload_request{str(r.getCommitUploadRequest().getUploadId())}};
    case Which::COMMIT_UPLOAD_REPLY:
      return artifacts_message{
          commit_upload_reply{get_info(r.getCommitUploadReply().getArtifact())}};
    case Which::ABORT_UPLOAD_REQUEST:
      return artifacts_message{abort_upload_request{str(r.getAbortUploadRequest().getUploadId())}};
    case Which::ABORT_UPLOAD_REPLY: return artifacts_message{abort_upload_reply{}};
    case Which::LIST_ARTIFACTS_REQUEST: {
      auto o = r.getListArtifactsRequest();
      return artifacts_message{list_artifacts_request{str(o.getTenant()), o.getAllVersions()}};
    }
    case Which::LIST_ARTIFACTS_REPLY: {
      list_artifacts_reply v;
      for (auto a : r.getListArtifactsReply().getArtifacts()) v.artifacts.push_back(get_info(a));
      return artifacts_message{std::move(v)};
    }
    case Which::DOWNLOAD_CHUNK_REQUEST: {
      auto o = r.getDownloadChunkRequest();
      return artifacts_message{download_chunk_request{str(o.getName()), str(o.getTenant()),
                                                      str(o.getDigest()), o.getOffset(),
                                                      o.getMaxBytes()}};
    }
    case Which::DOWNLOAD_CHUNK_REPLY: {
      auto o = r.getDownloadChunkReply();
      return artifacts_message{
          download_chunk_reply{get_info(o.getArtifact()), o.getOffset(), bytes(o.getData())}};
    }
  }
  return std::nullopt;
}

}  // namespace troupe::msg::artifacts_codec
