#include "cluster/artifacts/artifact_transfer.hpp"

#include <algorithm>
#include <deque>
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

// The reply of kind `Reply` in `body`, or why it is not one.
template <class Reply>
transfer_result<Reply> reply_in(msg::body body) {
  if (const auto* e = std::get_if<msg::error>(&body))
    return head_error(msg::printable(e->message) + " (" + msg::to_string(e->code) + ")", e->code);
  if (auto* area = std::get_if<msg::artifacts_message>(&body))
    if (auto* reply = std::get_if<Reply>(&area->body)) return std::move(*reply);
  return head_error("unexpected reply kind from the head");
}

failure no_answer(std::chrono::milliseconds timeout) {
  return failure{failure::kind::no_answer,
                 "no reply from the head within " + std::to_string(timeout.count()) + " ms",
                 msg::error_code::timeout};
}

// The reply of kind `Reply`, or why there is none. Requests are retried when no reply came.
template <class Reply, class Request>
transfer_result<Reply> ask(const artifact_link& link, const Request& request,
                           std::chrono::milliseconds timeout, int tries = tries_per_chunk) {
  for (int i = 0; i < tries; ++i)
    if (auto body = link.await(link.send(msg::artifacts_message{request}), timeout))
      return reply_in<Reply>(std::move(*body));
  return no_answer(timeout);
}

using steady = std::chrono::steady_clock;

// A chunk request sent and not answered yet.
struct in_flight {
  uint64_t ticket = 0;
  steady::time_point deadline;  // for its reply, counted from when it was sent
};

in_flight send_chunk(const artifact_link& link, msg::artifacts_message m,
                     std::chrono::milliseconds timeout) {
  return {link.send(std::move(m)), steady::now() + timeout};
}

std::optional<msg::body> reply_to(const artifact_link& link, const in_flight& chunk) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(chunk.deadline - steady::now());
  return link.await(chunk.ticket, std::max(left, std::chrono::milliseconds(0)));
}

// Stops awaiting the replies of every chunk in `window` (of in_flight or more): one that comes
// later is dropped. Returns `why`, the failure that ends the transfer.
template <class Window>
failure abandon(const artifact_link& link, Window& window, failure why) {
  for (const in_flight& chunk : window) link.await(chunk.ticket, std::chrono::milliseconds(0));
  window.clear();
  return why;
}

failure local(const std::string& what, const std::string& path) {
  return {failure::kind::local, "cannot " + what + " " + path};
}

}  // namespace

artifact_link link_over(transport::request_client& client) {
  return {[&client](msg::artifacts_message m) { return client.send(std::move(m)); },
          [&client](uint64_t ticket, std::chrono::milliseconds timeout) {
            auto reply = client.await(ticket, timeout);
            return reply ? std::optional<msg::body>(std::move(reply->body)) : std::nullopt;
          }};
}

transfer_result<msg::artifact_info> upload_file(const artifact_link& link, const upload_spec& spec,
                                                std::chrono::milliseconds timeout,
                                                const progress_fn& progress) {
  const auto declared = digest_of_file(spec.path);
  if (!declared) return local("read", spec.path);
  // Sent again, it resumes the upload: the head says which bytes it has.
  const msg::begin_upload_request begin{spec.name,      spec.tenant,      spec.kind,
                                        declared->size, declared->digest, spec.job_id};
  auto begun = ask<msg::begin_upload_reply>(link, begin, timeout);
  if (auto* f = std::get_if<failure>(&begun)) return *f;
  auto upload = std::get<msg::begin_upload_reply>(std::move(begun));
  if (upload.chunk_bytes == 0) return head_error("the head offered chunks of 0 bytes");
  std::ifstream in(spec.path, std::ios::binary);
  if (!in) return local("read", spec.path);
  in.seekg(static_cast<std::streamoff>(upload.offset));
  std::vector<char> buffer(upload.chunk_bytes);

  std::deque<in_flight> window;
  uint64_t next = upload.offset;  // the next byte to send
  uint64_t received = upload.offset;
  int resumed = 0;  // since a chunk was last answered
  while (received < declared->size) {
    for (; window.size() < chunks_in_flight && next < declared->size;) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto n = static_cast<size_t>(in.gcount());
      // It shrank since it was hashed.
      if (n == 0) return abandon(link, window, local("read all of", spec.path));
      window.push_back(send_chunk(link,
                                  msg::artifacts_message{msg::upload_chunk_request{
                                      upload.upload_id, next, std::string(buffer.data(), n)}},
                                  timeout));
      next += n;
    }
    auto body = reply_to(link, window.front());
    window.pop_front();
    auto answered = body ? reply_in<msg::upload_chunk_reply>(std::move(*body)) : no_answer(timeout);
    if (auto* reply = std::get_if<msg::upload_chunk_reply>(&answered)) {
      received = std::max(received, reply->received);
      resumed = 0;
      if (progress) progress(received, declared->size);
      continue;
    }
    // A request or reply was lost (the chunks after a lost one are refused as a conflict): the
    // upload resumes from the bytes the head has.
    const auto f = abandon(link, window, std::get<failure>(answered));
    if (f.kind != failure::kind::no_answer && f.code != msg::error_code::conflict) return f;
    if (++resumed == tries_per_chunk) return f;
    auto again = ask<msg::begin_upload_reply>(link, begin, timeout);
    if (auto* g = std::get_if<failure>(&again)) return *g;
    upload = std::get<msg::begin_upload_reply>(std::move(again));
    if (upload.chunk_bytes == 0) return head_error("the head offered chunks of 0 bytes");
    buffer.resize(upload.chunk_bytes);
    next = received = upload.offset;
    in.clear();
    in.seekg(static_cast<std::streamoff>(next));
  }
  auto committed = ask<msg::commit_upload_reply>(
      link, msg::commit_upload_request{upload.upload_id},
      std::max<std::chrono::milliseconds>(timeout, least_commit_wait), 1);
  if (auto* f = std::get_if<failure>(&committed)) return *f;
  return std::get<msg::commit_upload_reply>(committed).artifact;
}

transfer_result<msg::artifact_info> describe(const artifact_link& link, const download_spec& spec,
                                             std::chrono::milliseconds timeout) {
  auto got = ask<msg::download_chunk_reply>(
      link, msg::download_chunk_request{spec.name, spec.tenant, spec.digest, 0, 1}, timeout);
  if (auto* f = std::get_if<failure>(&got)) return *f;
  return std::get<msg::download_chunk_reply>(std::move(got)).artifact;
}

transfer_result<msg::artifact_info> download_file(const artifact_link& link,
                                                  const download_spec& spec,
                                                  const std::string& path,
                                                  std::chrono::milliseconds timeout,
                                                  const progress_fn& progress) {
  const bool whole = spec.length == 0;
  const uint64_t begin = whole ? 0 : spec.offset;
  uint64_t end = 0;  // of what is fetched: known from the first reply
  staged_file out(path + ".part");
  sha256 hash;
  uint64_t at = begin;  // the next byte to write
  // Every chunk after the first from the version it named, even if the name moves on meanwhile.
  std::optional<msg::artifact_info> artifact;
  // Checks a reply to the chunk at `at` (asked for at most `length` bytes) and writes it.
  auto take = [&](msg::download_chunk_reply chunk, uint64_t length) -> std::optional<failure> {
    if (!artifact) artifact = chunk.artifact;
    if (chunk.offset != at || chunk.artifact.digest != artifact->digest ||
        chunk.data.size() > length)
      return head_error("the head answered with another chunk than the one asked for");
    if (chunk.data.empty() && at < end)
      return head_error("the head sent no bytes before the end of the artifact");
    if (auto e = out.write(chunk.data)) return failure{failure::kind::local, e->message};
    if (whole) hash.update(chunk.data);
    at += chunk.data.size();
    if (progress) progress(at - begin, end - begin);
    return std::nullopt;
  };

  const uint64_t first_length =
      whole ? download_chunk_bytes : std::min<uint64_t>(download_chunk_bytes, spec.length);
  auto first = ask<msg::download_chunk_reply>(
      link,
      msg::download_chunk_request{spec.name, spec.tenant, spec.digest, begin,
                                  static_cast<uint32_t>(first_length)},
      timeout);
  if (auto* f = std::get_if<failure>(&first)) return *f;
  const auto& described = std::get<msg::download_chunk_reply>(first).artifact;
  end = whole ? described.size : begin + std::min(spec.length, described.size - begin);
  // The head may send less than asked: what it sent first is the chunk it sends.
  const auto chunk_bytes =
      std::max<uint64_t>(1, std::get<msg::download_chunk_reply>(first).data.size());
  if (auto f = take(std::get<msg::download_chunk_reply>(std::move(first)), first_length)) return *f;

  // A chunk asked for: bytes [offset, offset + length), its `tries`-th request.
  struct asked : in_flight {
    uint64_t offset = 0, length = 0;
    int tries = 0;
  };
  auto ask_for = [&](uint64_t offset, uint64_t length, int tries) {
    return asked{{send_chunk(link,
                             msg::artifacts_message{msg::download_chunk_request{
                                 artifact->name, artifact->tenant, artifact->digest, offset,
                                 static_cast<uint32_t>(length)}},
                             timeout)},
                 offset,
                 length,
                 tries};
  };
  std::deque<asked> window;
  for (uint64_t next = at; at < end;) {
    for (; window.size() < chunks_in_flight && next < end; next += chunk_bytes)
      window.push_back(ask_for(next, std::min<uint64_t>(chunk_bytes, end - next), 1));
    const auto front = window.front();
    window.pop_front();
    auto body = reply_to(link, front);
    if (!body) {
      if (front.tries == tries_per_chunk) return abandon(link, window, no_answer(timeout));
      window.push_front(ask_for(front.offset, front.length, front.tries + 1));
      continue;
    }
    auto got = reply_in<msg::download_chunk_reply>(std::move(*body));
    if (auto* f = std::get_if<failure>(&got)) return abandon(link, window, *f);
    if (auto f = take(std::get<msg::download_chunk_reply>(std::move(got)), front.length))
      return abandon(link, window, *f);
    // A short chunk: the rest of it is asked for before the chunks already asked for after it.
    if (at < front.offset + front.length)
      window.push_front(ask_for(at, front.offset + front.length - at, 1));
  }
  if (whole) {
    const auto actual = hash.hex_digest();
    if (actual != artifact->digest)
      return head_error("the bytes received do not match the artifact's sha256 " +
                        artifact->digest + " (their sha256 is " + actual + "); nothing was kept");
  }
  if (auto e = out.publish(path)) return failure{failure::kind::local, e->message};
  return *artifact;
}

}  // namespace troupe::artifacts
