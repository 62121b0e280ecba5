#include "actors/artifacts/artifact_service.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <caf/all.hpp>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>

#include "actors/atoms.hpp"
#include "actors/store/store_actor.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "cluster/security/key_registry.hpp"
#include "messages/safe_text.hpp"

namespace troupe::artifact_service {
namespace {

using actors::inbound;
using actors::sender_key;
using msg::artifact_kind;
using steady = std::chrono::steady_clock;

constexpr size_t most_open_uploads = 64;
constexpr size_t most_open_uploads_per_key = 4;
constexpr size_t most_name_bytes = 200;
constexpr const char* default_tenant = "default";

struct open_upload {
  std::string key_id;
  msg::begin_upload_request request;  // its tenant resolved
  std::unique_ptr<artifacts::blob_upload> bytes;
  steady::time_point last_activity;
  bool committing = false;
};

// (tenant, name, digest): the key of a stored version.
using version_key = std::tuple<std::string, std::string, std::string>;

struct service_state {
  static inline const char* name = "artifact_service";
  artifact_service_deps deps;
  std::map<version_key, msg::artifact_info> versions;
  std::unordered_map<std::string, open_upload> uploads;
};

using self_ptr = caf::stateful_actor<service_state, caf::event_based_actor>*;

msg::error invalid(std::string why) { return {msg::error_code::invalid_request, std::move(why)}; }
msg::error denied(std::string why) { return {msg::error_code::permission_denied, std::move(why)}; }

void reply(self_ptr self, const inbound& in, msg::body body) {
  self->state.deps.endpoint->send(
      in.peer, msg::reply_to(in.env, self->state.deps.self_name, std::move(body)));
}

void reply_artifacts(self_ptr self, const inbound& in, msg::artifacts_message m) {
  reply(self, in, std::move(m));
}

msg::artifact_info info_of(const store::artifact_record& r) {
  return {r.name,   r.tenant, msg::parse_artifact_kind(r.kind).value_or(artifact_kind::dataset),
          r.digest, r.size,   r.created_at_ms,
          r.job_id};
}

store::artifact_record record_of(const msg::artifact_info& a) {
  return {a.tenant, a.name, a.digest, msg::to_string(a.kind), a.size, a.created_at_ms, a.job_id};
}

// Names and tenants: 1-200 of A-Z a-z 0-9 . _ - /, not starting with . or /, no "..".
bool is_artifact_name(const std::string& text) {
  if (text.empty() || text.size() > most_name_bytes || text[0] == '.' || text[0] == '/')
    return false;
  if (text.find("..") != std::string::npos) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
  });
}

bool sees_every_tenant(const sender_key& key) { return key.role != msg::key_role::submit; }

// The tenant a request names, or the key's own (submit) or the default one.
std::string tenant_for(const sender_key& key, const std::string& asked) {
  if (!asked.empty()) return asked;
  return sees_every_tenant(key) ? default_tenant : key.tenant;
}

std::optional<msg::error> check_tenant(const sender_key& key, const std::string& tenant) {
  if (!is_artifact_name(tenant))
    return invalid("tenant: `" + msg::printable(tenant) + "` is not a tenant name");
  if (!sees_every_tenant(key) && tenant != key.tenant)
    return denied("tenant: this key may only use artifacts of tenant " + key.tenant);
  return std::nullopt;
}

std::optional<msg::error> check_may_upload(const sender_key& key,
                                           const msg::begin_upload_request& r) {
  const auto kind = r.kind;
  if (key.role == msg::key_role::submit && kind == artifact_kind::checkpoint)
    return denied("kind: a submit key may only upload datasets and models");
  // A job's artifacts come from its ranks, through their nodes: the training service trusts them.
  if (key.role == msg::key_role::submit && !r.job_id.empty())
    return denied("jobId: a submit key may not upload an artifact of a job");
  if (key.role == msg::key_role::node && kind == artifact_kind::dataset)
    return denied("kind: a node key may only upload checkpoints and models");
  return std::nullopt;
}

std::optional<msg::error> check_begin(self_ptr self, const sender_key& key,
                                      const msg::begin_upload_request& r) {
  if (!is_artifact_name(r.name))
    return invalid("name: `" + msg::printable(r.name) +
                   "` must be 1-200 of A-Z a-z 0-9 . _ - /, not starting with . or /");
  if (auto e = check_tenant(key, r.tenant)) return e;
  if (auto e = check_may_upload(key, r)) return e;
  if (!artifacts::is_sha256_hex(r.digest))
    return invalid("digest: must be a SHA-256 as 64 lowercase hex digits");
  const auto most = self->state.deps.max_artifact_bytes;
  if (r.size > most)
    return invalid("size: " + std::to_string(r.size) + " bytes exceeds the head's limit of " +
                   std::to_string(most) + " bytes (artifact_max_bytes)");
  return std::nullopt;
}

void on_begin(self_ptr self, const inbound& in, msg::begin_upload_request r,
              const sender_key& key) {
  auto& st = self->state;
  r.tenant = tenant_for(key, r.tenant);
  if (auto e = check_begin(self, key, r)) return reply(self, in, *e);
  size_t of_key = 0;
  for (auto& [id, u] : st.uploads) {
    if (u.key_id != key.key_id) continue;
    if (u.request == r && !u.committing) {  // resumed
      u.last_activity = steady::now();
      return reply_artifacts(
          self, in, {msg::begin_upload_reply{id, u.bytes->received(), st.deps.chunk_bytes}});
    }
    ++of_key;
  }
  if (st.uploads.size() >= most_open_uploads || of_key >= most_open_uploads_per_key)
    return reply(self, in,
                 msg::error{msg::error_code::overloaded,
                            "too many uploads are open; finish or abort one, or retry later"});
  const auto id = artifacts::random_hex(16);
  st.uploads.emplace(id, open_upload{key.key_id, r, st.deps.blobs->begin(id), steady::now()});
  reply_artifacts(self, in, {msg::begin_upload_reply{id, 0, st.deps.chunk_bytes}});
}

// The open upload `id` of `key`, or nullptr after answering not_found.
open_upload* find_upload(self_ptr self, const inbound& in, const std::string& id,
                         const sender_key& key) {
  auto it = self->state.uploads.find(id);
  if (it == self->state.uploads.end() || it->second.key_id != key.key_id) {
    reply(self, in,
          msg::error{msg::error_code::not_found,
                     "no open upload " + msg::printable(id) + " (it ended, or was idle too long)"});
    return nullptr;
  }
  if (it->second.committing) {
    reply(self, in, msg::error{msg::error_code::conflict, "the upload is being committed"});
    return nullptr;
  }
  it->second.last_activity = steady::now();
  return &it->second;
}

void on_chunk(self_ptr self, const inbound& in, const msg::upload_chunk_request& r,
              const sender_key& key) {
  auto* u = find_upload(self, in, r.upload_id, key);
  if (!u) return;
  const auto received = u->bytes->received();
  if (r.data.size() > self->state.deps.chunk_bytes)
    return reply(self, in,
                 invalid("data: a chunk may carry at most " +
                         std::to_string(self->state.deps.chunk_bytes) + " bytes"));
  if (r.offset > received)
    return reply(
        self, in,
        msg::error{msg::error_code::conflict,
                   "offset: the head has " + std::to_string(received) + " bytes of this upload"});
  // A resent chunk adds only what the head does not have yet.
  const auto fresh =
      std::string_view(r.data).substr(std::min<uint64_t>(received - r.offset, r.data.size()));
  if (received + fresh.size() > u->request.size)
    return reply(self, in, invalid("data: the chunk goes past the declared size"));
  if (auto e = u->bytes->append(fresh)) {
    spdlog::error("artifacts: {}", e->message);
    self->state.uploads.erase(r.upload_id);
    return reply(self, in, *e);
  }
  reply_artifacts(self, in, {msg::upload_chunk_reply{u->bytes->received()}});
}

void on_commit(self_ptr self, const inbound& in, const msg::commit_upload_request& r,
               const sender_key& key) {
  auto& st = self->state;
  auto* u = find_upload(self, in, r.upload_id, key);
  if (!u) return;
  if (u->bytes->received() != u->request.size)
    return reply(self, in,
                 msg::error{msg::error_code::conflict,
                            std::to_string(u->bytes->received()) + " of " +
                                std::to_string(u->request.size) + " bytes were received"});
  const auto& q = u->request;
  if (auto e = u->bytes->commit(q.digest)) {
    if (e->code == msg::error_code::invalid_request)
      spdlog::warn("artifacts: refused {} of tenant {}: {}", msg::printable(q.name),
                   msg::printable(q.tenant), e->message);
    else
      spdlog::error("artifacts: {}", e->message);
    st.uploads.erase(r.upload_id);
    return reply(self, in, *e);
  }
  u->committing = true;
  msg::artifact_info info{q.name,  q.tenant, q.kind, q.digest, q.size, security::unix_now_ms(),
                          q.job_id};
  self->request(st.deps.store, store::longest_call + std::chrono::seconds(5),
                actors::store_atom::value, actors::confirm_atom::value,
                store::store_write{record_of(info)})
      .then(
          [self, in, info, id = r.upload_id](bool stored) {
            self->state.uploads.erase(id);
            if (!stored)
              return reply(
                  self, in,
                  msg::error{msg::error_code::unavailable,
                             "the store cannot record the artifact now; retry the upload"});
            self->state.versions[{info.tenant, info.name, info.digest}] = info;
            spdlog::info("artifacts: stored {} of tenant {} ({} bytes, sha256 {})",
                         msg::printable(info.name), msg::printable(info.tenant), info.size,
                         info.digest);
            reply_artifacts(self, in, {msg::commit_upload_reply{info}});
          },
          [self, in, id = r.upload_id](caf::error&) {
            self->state.uploads.erase(id);
            reply(self, in,
                  msg::error{msg::error_code::unavailable, "the store did not answer; retry"});
          });
}

void on_abort(self_ptr self, const inbound& in, const msg::abort_upload_request& r,
              const sender_key& key) {
  if (!find_upload(self, in, r.upload_id, key)) return;
  self->state.uploads.erase(r.upload_id);
  reply_artifacts(self, in, {msg::abort_upload_reply{}});
}

bool visible(const sender_key& key, const msg::artifact_info& a) {
  return sees_every_tenant(key) || a.tenant == key.tenant;
}

void on_list(self_ptr self, const inbound& in, const msg::list_artifacts_request& r,
             const sender_key& key) {
  msg::list_artifacts_reply out;
  for (const auto& [k, a] : self->state.versions)
    if (visible(key, a) && (r.tenant.empty() || a.tenant == r.tenant)) out.artifacts.push_back(a);
  std::sort(out.artifacts.begin(), out.artifacts.end(), [](const auto& a, const auto& b) {
    return std::tie(a.tenant, a.name, b.created_at_ms, a.digest) <
           std::tie(b.tenant, b.name, a.created_at_ms, b.digest);
  });
  if (!r.all_versions)
    out.artifacts.erase(std::unique(out.artifacts.begin(), out.artifacts.end(),
                                    [](const auto& a, const auto& b) {
                                      return a.tenant == b.tenant && a.name == b.name;
                                    }),
                        out.artifacts.end());
  reply_artifacts(self, in, {std::move(out)});
}

// The version a download asks for: by name (newest, or the one with its digest) or by digest.
const msg::artifact_info* resolve(self_ptr self, const msg::download_chunk_request& r,
                                  const sender_key& key) {
  const msg::artifact_info* best = nullptr;
  const auto tenant = tenant_for(key, r.tenant);
  for (const auto& [k, a] : self->state.versions) {
    if (!visible(key, a)) continue;
    if (!r.name.empty() && (a.name != r.name || a.tenant != tenant)) continue;
    if (!r.digest.empty() && a.digest != r.digest) continue;
    if (!r.tenant.empty() && a.tenant != r.tenant) continue;
    if (!best || a.created_at_ms > best->created_at_ms) best = &a;
  }
  return best;
}

void on_download(self_ptr self, const inbound& in, const msg::download_chunk_request& r,
                 const sender_key& key) {
  if (r.name.empty() && r.digest.empty())
    return reply(self, in, invalid("name: give a name, a digest or both"));
  if (!r.tenant.empty())
    if (auto e = check_tenant(key, r.tenant)) return reply(self, in, *e);
  const auto* a = resolve(self, r, key);
  if (!a)
    return reply(self, in,
                 msg::error{msg::error_code::not_found,
                            "no artifact " + msg::printable(r.name.empty() ? r.digest : r.name) +
                                (r.name.empty() ? "" : " in tenant " + tenant_for(key, r.tenant))});
  if (r.offset > a->size) return reply(self, in, invalid("offset: past the end of the artifact"));
  const auto most = self->state.deps.chunk_bytes;
  const uint64_t length = r.max_bytes == 0 ? most : std::min(r.max_bytes, most);
  auto bytes = self->state.deps.blobs->read(a->digest, a->size, r.offset, length);
  if (auto* e = std::get_if<msg::error>(&bytes)) {
    spdlog::error("artifacts: {}", e->message);
    return reply(self, in, *e);
  }
  reply_artifacts(
      self, in, {msg::download_chunk_reply{*a, r.offset, std::get<std::string>(std::move(bytes))}});
}

// Drops uploads that sent nothing for upload_idle: their uploader died or gave up.
void drop_idle_uploads(self_ptr self) {
  auto& st = self->state;
  const auto now = steady::now();
  for (auto it = st.uploads.begin(); it != st.uploads.end();) {
    if (!it->second.committing && now - it->second.last_activity >= st.deps.upload_idle) {
      spdlog::info("artifacts: dropped the idle upload of {} ({} of {} bytes)",
                   msg::printable(it->second.request.name), it->second.bytes->received(),
                   it->second.request.size);
      it = st.uploads.erase(it);
    } else {
      ++it;
    }
  }
}

void on_inbound(self_ptr self, const inbound& in) {
  if (!in.sender) return;
  const auto& key = *in.sender;
  const auto& m = std::get<msg::artifacts_message>(in.env.body);
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, msg::begin_upload_request>)
          on_begin(self, in, r, key);
        else if constexpr (std::is_same_v<T, msg::upload_chunk_request>)
          on_chunk(self, in, r, key);
        else if constexpr (std::is_same_v<T, msg::commit_upload_request>)
          on_commit(self, in, r, key);
        else if constexpr (std::is_same_v<T, msg::abort_upload_request>)
          on_abort(self, in, r, key);
        else if constexpr (std::is_same_v<T, msg::list_artifacts_request>)
          on_list(self, in, r, key);
        else if constexpr (std::is_same_v<T, msg::download_chunk_request>)
          on_download(self, in, r, key);
        else
          reply(self, in, invalid("the head does not serve this message"));
      },
      m.body);
}

caf::behavior service(self_ptr self, artifact_service_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  for (const auto& r : st.deps.artifacts) st.versions[{r.tenant, r.name, r.digest}] = info_of(r);
  st.deps.artifacts.clear();
  const auto sweep = std::max(std::chrono::milliseconds(50), st.deps.upload_idle / 4);
  self->delayed_send(self, sweep, actors::tick_atom::value);
  return {
      [self](const inbound& in) { on_inbound(self, in); },
      [self](actors::artifact_atom, const std::string& tenant, const std::string& digest) {
        artifact_versions out;
        for (const auto& [k, a] : self->state.versions)
          if (a.tenant == tenant && a.digest == digest) out.versions.push_back(a);
        return out;
      },
      [self, sweep](actors::tick_atom) {
        drop_idle_uploads(self);
        self->delayed_send(self, sweep, actors::tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_artifact_service(caf::actor_system& system, artifact_service_deps deps) {
  return system.spawn<caf::detached>(service, std::move(deps));
}

}  // namespace troupe::artifact_service
