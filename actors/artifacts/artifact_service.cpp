#include "actors/artifacts/artifact_service.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <caf/all.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <unordered_map>

#include "actors/artifacts/artifact_service_state.hpp"
#include "actors/atoms.hpp"
#include "actors/jobs/job_service.hpp"
#include "actors/store/store_actor.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/security/key_registry.hpp"
#include "cluster/training/train_spec.hpp"
#include "messages/safe_text.hpp"

namespace troupe::artifact_service::detail {

using actors::inbound;
using actors::sender_key;

constexpr auto job_service_timeout = std::chrono::seconds(5);

constexpr size_t most_open_uploads = 64;
constexpr size_t most_open_uploads_per_key = 4;
constexpr const char* default_tenant = "default";

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

bool sees_every_tenant(const sender_key& key) { return key.role != msg::key_role::submit; }

// The tenant a request names, or the key's own (submit) or the default one.
std::string tenant_for(const sender_key& key, const std::string& asked) {
  if (!asked.empty()) return asked;
  return sees_every_tenant(key) ? default_tenant : key.tenant;
}

std::optional<msg::error> check_tenant(const sender_key& key, const std::string& tenant) {
  if (!msg::is_artifact_name(tenant))
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
  if (key.role == msg::key_role::node && kind == artifact_kind::dataset && r.job_id.empty())
    return denied("kind: a node key uploads a dataset only as a job's result (jobId)");
  return std::nullopt;
}

std::optional<msg::error> check_begin(self_ptr self, const sender_key& key,
                                      const msg::begin_upload_request& r) {
  if (!msg::is_artifact_name(r.name))
    return invalid("name: `" + msg::printable(r.name) + "` must be " + msg::artifact_name_rule);
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

// A time after every stored version of the name: the newest version is the one it means.
int64_t created_at_for(const service_state& st, const std::string& tenant,
                       const std::string& name) {
  auto at = security::unix_now_ms();
  for (const auto& [k, a] : st.versions)
    if (a.tenant == tenant && a.name == name) at = std::max(at, a.created_at_ms + 1);
  return at;
}

// How many versions of its checkpoints the job keeps: a train job's checkpoint.keep; nullopt
// (every one) for any other job.
std::optional<size_t> checkpoints_kept(const job_service::job_view& job) {
  if (!job.known || job.kind != "train") return std::nullopt;
  try {
    const auto spec =
        training::train_spec_from_json(jobs::parse_job_spec(job.spec_json).kind_fields);
    if (spec.checkpoint.keep > 0) return static_cast<size_t>(spec.checkpoint.keep);
  } catch (const std::exception& e) {  // a stored spec that no longer parses: our bug
    spdlog::error("artifacts: the stored spec of job {} does not parse: {}", job.job_id, e.what());
  }
  return std::nullopt;
}

// The checkpoint versions of `newest`'s name and job past the `keep` newest.
std::vector<msg::artifact_info> past_the_newest(const service_state& st,
                                                const msg::artifact_info& newest, size_t keep) {
  std::vector<msg::artifact_info> versions;
  for (const auto& [k, a] : st.versions)
    if (a.tenant == newest.tenant && a.name == newest.name && a.job_id == newest.job_id &&
        a.kind == artifact_kind::checkpoint)
      versions.push_back(a);
  if (versions.size() <= keep) return {};
  std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) {
    return std::tie(b.created_at_ms, b.digest) < std::tie(a.created_at_ms, a.digest);
  });
  return {versions.begin() + static_cast<std::ptrdiff_t>(keep), versions.end()};
}

// Whether a stored version, or an upload or assembly whose blob is published but not yet
// stored, has it.
bool referenced(const service_state& st, const std::string& digest) {
  for (const auto& [k, a] : st.versions)
    if (a.digest == digest) return true;
  for (const auto& [id, u] : st.uploads)
    if (u.committing && u.request.digest == digest) return true;
  return st.assembled.count(digest) > 0;
}

// Deletes the blobs of `removed` versions that nothing refers to any more.
void delete_unreferenced_blobs(service_state& st, const std::vector<msg::artifact_info>& removed) {
  for (const auto& a : removed)
    if (!referenced(st, a.digest))
      if (auto e = st.deps.blobs->remove(a.digest)) spdlog::error("artifacts: {}", e->message);
}

// Removes the rows of `old` versions, then the blobs nothing else refers to; calls `done`
// either way. Versions whose rows the store did not confirm removed stay, and go with the job's
// next checkpoint.
void remove_versions(self_ptr self, std::vector<msg::artifact_info> old,
                     std::function<void()> done) {
  std::vector<store::store_write> removals;
  for (const auto& a : old) removals.push_back(store::artifact_removal{a.tenant, a.name, a.digest});
  self->request(self->state.deps.store, store_timeout, actors::store_atom::value,
                actors::confirm_atom::value, std::move(removals))
      .then(
          [self, old, done](bool stored) {
            if (!stored) {
              spdlog::warn("artifacts: the store cannot remove old versions of {} now",
                           msg::printable(old.front().name));
              return done();
            }
            auto& st = self->state;
            for (const auto& a : old) st.versions.erase({a.tenant, a.name, a.digest});
            delete_unreferenced_blobs(st, old);
            spdlog::info("artifacts: removed {} old versions of {} of tenant {}", old.size(),
                         msg::printable(old.front().name), msg::printable(old.front().tenant));
            done();
          },
          [old, done](caf::error&) {
            spdlog::warn("artifacts: the store did not answer the removal of old versions of {}",
                         msg::printable(old.front().name));
            done();
          });
}

// Applies the retention of `newest`'s job to its checkpoint, then calls `done`.
void keep_newest_checkpoints(self_ptr self, const msg::artifact_info& newest,
                             std::function<void()> done) {
  if (newest.kind != artifact_kind::checkpoint || newest.job_id.empty()) return done();
  self->request(self->state.deps.jobs, job_service_timeout, actors::job_atom::value, newest.job_id)
      .then(
          [self, newest, done](const job_service::job_view& job) {
            const auto keep = checkpoints_kept(job);
            auto old = keep ? past_the_newest(self->state, newest, *keep)
                            : std::vector<msg::artifact_info>{};
            if (old.empty()) return done();
            remove_versions(self, std::move(old), done);
          },
          [newest, done](caf::error&) {
            spdlog::warn("artifacts: the job service did not say how many checkpoints job {} keeps",
                         newest.job_id);
            done();
          });
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
  msg::artifact_info info{
      q.name, q.tenant, q.kind, q.digest, q.size, created_at_for(st, q.tenant, q.name), q.job_id};
  self->request(st.deps.store, store_timeout, actors::store_atom::value,
                actors::confirm_atom::value, store::store_write{record_of(info)})
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
            keep_newest_checkpoints(self, info, [self, in, info] {
              reply_artifacts(self, in, {msg::commit_upload_reply{info}});
            });
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
  std::set<std::string> stored_digests;
  for (const auto& r : st.deps.artifacts) {
    st.versions[{r.tenant, r.name, r.digest}] = info_of(r);
    stored_digests.insert(r.digest);
  }
  st.deps.artifacts.clear();
  if (const auto swept = st.deps.blobs->sweep(stored_digests))
    spdlog::info("artifacts: deleted {} blobs no stored version refers to", swept);
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
      [self](actors::assemble_atom, const dataset_assembly& a) { return on_assemble(self, a); },
      [self, sweep](actors::tick_atom) {
        drop_idle_uploads(self);
        self->delayed_send(self, sweep, actors::tick_atom::value);
      },
  };
}

}  // namespace troupe::artifact_service::detail

namespace troupe::artifact_service {

caf::actor spawn_artifact_service(caf::actor_system& system, artifact_service_deps deps) {
  return system.spawn<caf::detached>(detail::service, std::move(deps));
}

}  // namespace troupe::artifact_service
