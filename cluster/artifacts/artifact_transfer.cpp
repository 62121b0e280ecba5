#include "cluster/artifacts/artifact_transfer.hpp"

#include <fstream>
#include <vector>

#include "cluster/artifacts/digest.hpp"
#include "cluster/artifacts/staged_file.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/safe_text.hpp"

namespace troupe::artifacts {
namespace {

using failure = transfer_failure;

// Chunks asked for again when their reply is lost, before giving up.
constexpr int tries_per_chunk = 3;
// Bytes asked for per download chunk: well inside every decoder's frame limit.
constexpr uint32_t download_chunk_bytes = 512 * 1024;
// Committing fsyncs the whole blob on the head: it may take longer than a chunk.
constexpr std::chrono::seconds least_commit_wait{60};

failure head_error(std::string message, msg::error_code code = msg::error_code::internal) {
  return {failure::kind::head_error, std::move(message), code};
}

// The reply of kind `Reply`, or why there is none. Requests are retried when no reply came.
template <class Reply, class Request>
transfer_result<Reply> ask(const artifact_caller& call, const Request& request,
                           std::chrono::milliseconds timeout, int tries = tries_per_chunk) {
  for (int i = 0; i < tries; ++i) {
    auto body = call(msg::artifacts_message{request}, timeout);
    if (!body) continue;
    if (const auto* e = std::get_if<msg::error>(&*body))
      return head_error(msg::printable(e->message) + " (" + msg::to_string(e->code) + ")", e->code);
    if (const auto* area = std::get_if<msg::artifacts_message>(&*body))
      if (const auto* reply = std::get_if<Reply>(&area->body)) return *reply;
    return head_error("unexpected reply kind from the head");
  }
  return failure{failure::kind::no_answer,
                 "no reply from the head within " + std::to_string(timeout.count()) + " ms",
                 msg::error_code::timeout};
}

failure local(const std::string& what, const std::string& path) {
  return {failure::kind::local, "cannot " + what + " " + path};
}

}  // namespace

artifact_caller caller_over(transport::request_client& client) {
  return [&client](msg::artifacts_message m, std::chrono::milliseconds timeout) {
    auto reply = client.call(std::move(m), timeout);
    return reply ? std::optional<msg::body>(std::move(reply->body)) : std::nullopt;
  };
}

transfer_result<msg::artifact_info> upload_file(const artifact_caller& call,
                                                const upload_spec& spec,
                                                std::chrono::milliseconds timeout,
                                                const progress_fn& progress) {
  const auto declared = digest_of_file(spec.path);
  if (!declared) return local("read", spec.path);
  auto begun = ask<msg::begin_upload_reply>(
      call,
      msg::begin_upload_request{spec.name, spec.tenant, spec.kind, declared->size, declared->digest,
                                spec.job_id},
      timeout);
  if (auto* f = std::get_if<failure>(&begun)) return *f;
  const auto upload = std::get<msg::begin_upload_reply>(std::move(begun));
  if (upload.chunk_bytes == 0) return head_error("the head offered chunks of 0 bytes");
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) return local("read", spec.path);
  in.seekg(static_cast<std::streamoff>(upload.offset));
  std::vector<char> buffer(upload.chunk_bytes);
  for (uint64_t offset = upload.offset; offset < declared->size;) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) return local("read all of", spec.path);  // it shrank since it was hashed
    auto sent = ask<msg::upload_chunk_reply>(
        call, msg::upload_chunk_request{upload.upload_id, offset, std::string(buffer.data(), n)},
        timeout);
    if (auto* f = std::get_if<failure>(&sent)) return *f;
    offset += n;
    if (progress) progress(offset, declared->size);
  }
  auto committed = ask<msg::commit_upload_reply>(
      call, msg::commit_upload_request{upload.upload_id},
      std::max<std::chrono::milliseconds>(timeout, least_commit_wait), 1);
  if (auto* f = std::get_if<failure>(&committed)) return *f;
  return std::get<msg::commit_upload_reply>(committed).artifact;
}

transfer_result<msg::artifact_info> describe(const artifact_caller& call, const download_spec& spec,
                                             std::chrono::milliseconds timeout) {
  auto got = ask<msg::download_chunk_reply>(
      call, msg::download_chunk_request{spec.name, spec.tenant, spec.digest, 0, 1}, timeout);
  if (auto* f = std::get_if<failure>(&got)) return *f;
  return std::get<msg::download_chunk_reply>(std::move(got)).artifact;
}

transfer_result<msg::artifact_info> download_file(const artifact_caller& call,
                                                  const download_spec& spec,
                                                  const std::string& path,
                                                  std::chrono::milliseconds timeout,
                                                  const progress_fn& progress) {
  staged_file out(path + ".part");
  sha256 hash;
  msg::download_chunk_request request{spec.name, spec.tenant, spec.digest, 0, download_chunk_bytes};
  std::optional<msg::artifact_info> artifact;
  while (!artifact || request.offset < artifact->size) {
    auto got = ask<msg::download_chunk_reply>(call, request, timeout);
    if (auto* f = std::get_if<failure>(&got)) return *f;
    auto& chunk = std::get<msg::download_chunk_reply>(got);
    if (!artifact) {
      artifact = chunk.artifact;
      // Every later chunk from the same version, even if the name moves on meanwhile.
      request.name = artifact->name;
      request.tenant = artifact->tenant;
      request.digest = artifact->digest;
    }
    if (chunk.offset != request.offset || chunk.artifact.digest != artifact->digest)
      return head_error("the head answered with another chunk than the one asked for");
    if (chunk.data.empty() && request.offset < artifact->size)
      return head_error("the head sent no bytes before the end of the artifact");
    if (auto e = out.write(chunk.data)) return failure{failure::kind::local, e->message};
    hash.update(chunk.data);
    request.offset += chunk.data.size();
    if (progress) progress(request.offset, artifact->size);
  }
  const auto actual = hash.hex_digest();
  if (actual != artifact->digest)
    return head_error("the bytes received do not match the artifact's sha256 " + artifact->digest +
                      " (their sha256 is " + actual + "); nothing was kept");
  if (auto e = out.publish(path)) return failure{failure::kind::local, e->message};
  return *artifact;
}

}  // namespace troupe::artifacts
