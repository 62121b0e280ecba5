// The artifact service's state and the steps its parts share (internal to actors/artifacts):
// uploads, downloads and retention in artifact_service.cpp, the assembly of a dataset from
// stored parts in artifact_assembly.cpp.
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "actors/artifacts/artifact_service.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "cluster/store/store.hpp"

namespace troupe::artifact_service::detail {

using msg::artifact_kind;
using steady = std::chrono::steady_clock;

constexpr auto store_timeout = store::longest_call + std::chrono::seconds(5);

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
  // Of the assemblies waiting for the store: their results' digests (published blobs without
  // a row yet) and the versions they remove.
  std::multiset<std::string> assembled;
  std::set<version_key> in_assembly;
};

using self_ptr = caf::stateful_actor<service_state, caf::event_based_actor>*;

msg::error invalid(std::string why);
msg::error denied(std::string why);
store::artifact_record record_of(const msg::artifact_info& a);
// A time after every stored version of the name: the newest version is the one it means.
int64_t created_at_for(const service_state& st, const std::string& tenant, const std::string& name);
// Deletes the blobs of `removed` versions that nothing refers to any more.
void delete_unreferenced_blobs(service_state& st, const std::vector<msg::artifact_info>& removed);

using assembly_promise = caf::typed_response_promise<assembly_result>;
// Joins a job's stored parts into a dataset, stores it and removes the parts
// (artifact_assembly.cpp).
assembly_promise on_assemble(self_ptr self, const dataset_assembly& a);

}  // namespace troupe::artifact_service::detail
