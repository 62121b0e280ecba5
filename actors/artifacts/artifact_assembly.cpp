// The assembly of a dataset from a job's stored parts (AssembleDatasetRequest): the parts are
// checked, joined on the head, stored as one version, and removed.
#include <spdlog/spdlog.h>

#include "actors/artifacts/artifact_service_state.hpp"
#include "actors/atoms.hpp"
#include "actors/store/store_actor.hpp"
#include "cluster/artifacts/dataset_assembly.hpp"
#include "cluster/artifacts/digest.hpp"
#include "messages/safe_text.hpp"

namespace troupe::artifact_service::detail {
namespace {

constexpr size_t most_assembled_parts = 1024;

// How errors name part `i` of an assembly.
std::string part_label(size_t i, const std::string& name) {
  return "parts[" + std::to_string(i) + "] (" + msg::printable(name) + ")";
}

// The version part `i` of `a` names in the job's tenant, or why it may not be assembled.
std::variant<msg::artifact_info, msg::error> find_part(const service_state& st,
                                                       const dataset_assembly& a, size_t i) {
  const auto& p = a.parts[i];
  const auto label = part_label(i, p.name);
  if (!p.digest.empty() && !artifacts::is_sha256_hex(p.digest))
    return invalid(label + ": digest must be a SHA-256 as 64 lowercase hex digits");
  const msg::artifact_info* best = nullptr;
  for (const auto& [k, v] : st.versions)
    if (v.tenant == a.tenant && v.name == p.name && (p.digest.empty() || v.digest == p.digest) &&
        (!best || v.created_at_ms > best->created_at_ms))
      best = &v;
  if (!best)
    return msg::error{msg::error_code::not_found, label + ": no dataset " + msg::printable(p.name) +
                                                      (p.digest.empty() ? "" : "@" + p.digest) +
                                                      " in tenant " + a.tenant};
  if (best->kind != artifact_kind::dataset || best->job_id != a.job_id)
    return denied(label + ": not a dataset of job " + a.job_id);
  if (st.in_assembly.count({best->tenant, best->name, best->digest}))
    return msg::error{msg::error_code::conflict, label + ": is being assembled already"};
  return *best;
}

// The parts' versions, checked, in order; or why they may not be assembled.
std::variant<std::vector<msg::artifact_info>, msg::error> check_assembly(
    const service_state& st, const dataset_assembly& a) {
  if (!msg::is_artifact_name(a.name))
    return invalid("name: `" + msg::printable(a.name) + "` must be " + msg::artifact_name_rule);
  if (a.parts.empty() || a.parts.size() > most_assembled_parts)
    return invalid("parts: give 1 to " + std::to_string(most_assembled_parts) + " parts");
  std::set<std::string> names;
  std::vector<msg::artifact_info> parts;
  for (size_t i = 0; i < a.parts.size(); ++i) {
    const auto& name = a.parts[i].name;
    if (name == a.name)
      return invalid("name: " + msg::printable(a.name) + " is also one of the parts");
    if (!names.insert(name).second)
      return invalid("parts[" + std::to_string(i) + "]: " + msg::printable(name) +
                     " is listed twice");
    auto found = find_part(st, a, i);
    if (auto* e = std::get_if<msg::error>(&found)) return *e;
    parts.push_back(std::get<msg::artifact_info>(std::move(found)));
  }
  return parts;
}

// Every version the job made of the parts' names: what the assembly removes (earlier rounds'
// parts included).
std::vector<msg::artifact_info> versions_of_parts(const service_state& st,
                                                  const std::vector<msg::artifact_info>& parts) {
  std::set<std::string> names;
  for (const auto& p : parts) names.insert(p.name);
  std::vector<msg::artifact_info> out;
  for (const auto& [k, v] : st.versions)
    if (v.tenant == parts.front().tenant && v.job_id == parts.front().job_id && names.count(v.name))
      out.push_back(v);
  return out;
}

// Stores the assembled `result` with the removal of `removed`, then deletes their blobs that
// nothing refers to any more and answers.
void store_assembly(self_ptr self, msg::artifact_info result,
                    std::vector<msg::artifact_info> removed, assembly_promise promise,
                    steady::time_point started) {
  auto& st = self->state;
  st.assembled.insert(result.digest);
  for (const auto& a : removed) st.in_assembly.insert({a.tenant, a.name, a.digest});
  std::vector<store::store_write> writes{record_of(result)};
  for (const auto& a : removed)
    writes.push_back(store::artifact_removal{a.tenant, a.name, a.digest});
  // Once the store answered, either way: the assembly no longer holds its blob and parts.
  auto release = [self, result, removed] {
    auto& state = self->state;
    state.assembled.erase(state.assembled.find(result.digest));
    for (const auto& a : removed) state.in_assembly.erase({a.tenant, a.name, a.digest});
  };
  self->request(st.deps.store, store_timeout, actors::store_atom::value,
                actors::confirm_atom::value, std::move(writes))
      .then(
          [self, result, removed, promise, release, started](bool stored) mutable {
            release();
            if (!stored) {
              promise.deliver(assembly_result{
                  msg::error{msg::error_code::unavailable,
                             "the store cannot record the assembled dataset now; retry"}});
              return;
            }
            auto& state = self->state;
            for (const auto& a : removed) state.versions.erase({a.tenant, a.name, a.digest});
            state.versions[{result.tenant, result.name, result.digest}] = result;
            delete_unreferenced_blobs(state, removed);
            const std::chrono::duration<double> took = steady::now() - started;
            spdlog::info(
                "artifacts: assembled {} of tenant {} ({} bytes, sha256 {}) in {:.2f} s; removed "
                "{} versions of its parts",
                msg::printable(result.name), msg::printable(result.tenant), result.size,
                result.digest, took.count(), removed.size());
            promise.deliver(assembly_result{result});
          },
          [promise, release](caf::error&) mutable {
            release();
            promise.deliver(assembly_result{
                msg::error{msg::error_code::unavailable, "the store did not answer; retry"}});
          });
}

}  // namespace

assembly_promise on_assemble(self_ptr self, const dataset_assembly& a) {
  auto& st = self->state;
  const auto started = steady::now();
  auto promise = self->make_response_promise<assembly_result>();
  auto checked = check_assembly(st, a);
  if (auto* e = std::get_if<msg::error>(&checked)) {
    promise.deliver(assembly_result{*e});
    return promise;
  }
  const auto& parts = std::get<std::vector<msg::artifact_info>>(checked);
  std::vector<artifacts::assembly_part> inputs;
  for (size_t i = 0; i < parts.size(); ++i)
    inputs.push_back({part_label(i, parts[i].name), parts[i].digest, parts[i].size});
  auto joined = artifacts::assemble_csv(*st.deps.blobs, inputs, artifacts::random_hex(16),
                                        st.deps.max_artifact_bytes);
  if (auto* e = std::get_if<msg::error>(&joined)) {
    if (e->code != msg::error_code::invalid_request) spdlog::error("artifacts: {}", e->message);
    promise.deliver(assembly_result{*e});
    return promise;
  }
  const auto& blob = std::get<artifacts::assembled_blob>(joined);
  msg::artifact_info result{a.name,      a.tenant,  artifact_kind::dataset,
                            blob.digest, blob.size, created_at_for(st, a.tenant, a.name),
                            a.job_id};
  store_assembly(self, std::move(result), versions_of_parts(st, parts), promise, started);
  return promise;
}

}  // namespace troupe::artifact_service::detail
