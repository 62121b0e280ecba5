#include "actors/inference/service_table.hpp"

#include <algorithm>

namespace troupe::inference {
namespace {

msg::error error(msg::error_code code, std::string why) { return {code, std::move(why)}; }

// FNV-1a: the same key, the same point of the split, in every head.
uint64_t hash_of(const std::string& key) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

service_table::service_table(uint64_t seed, table_clock::duration silent_after)
    : random_(seed), silent_after_(silent_after) {}

void service_table::resolved(const service_identity& identity, const std::string& model_name,
                             std::vector<resolved_version> versions, const std::string& attempt_id,
                             const std::string& node_peer, table_clock::time_point now) {
  auto& s = services_[identity.job_id];
  s.identity = identity;
  s.model_name = model_name;
  for (const auto& v : versions) s.signatures[v.version] = v.signature;
  s.versions = std::move(versions);
  auto& r = s.replicas[attempt_id];
  r.node_peer = node_peer;
  r.failed = false;
  r.heard = now;
  job_of_attempt_[attempt_id] = identity.job_id;
}

bool service_table::reported(const std::string& attempt_id, const std::string& node_peer,
                             const std::vector<std::pair<uint32_t, std::string>>& versions) {
  auto job = job_of_attempt_.find(attempt_id);
  if (job == job_of_attempt_.end()) return false;
  auto& s = services_.at(job->second);
  auto& r = s.replicas.at(attempt_id);
  if (r.node_peer != node_peer) return false;
  r.loaded.clear();
  // Only versions the head resolved for it: a replica cannot make up one.
  for (const auto& [version, problem] : versions)
    if (s.signatures.count(version)) r.loaded[version] = problem;
  return true;
}

void service_table::failed(const std::string& attempt_id) {
  auto job = job_of_attempt_.find(attempt_id);
  if (job != job_of_attempt_.end()) services_.at(job->second).replicas.at(attempt_id).failed = true;
}

void service_table::ended(const std::string& attempt_id) {
  auto job = job_of_attempt_.find(attempt_id);
  if (job == job_of_attempt_.end()) return;
  auto s = services_.find(job->second);
  s->second.replicas.erase(attempt_id);
  if (s->second.replicas.empty()) services_.erase(s);
  job_of_attempt_.erase(job);
}

void service_table::drop_silent(table_clock::time_point now) {
  for (auto s = services_.begin(); s != services_.end();) {
    auto& replicas = s->second.replicas;
    for (auto r = replicas.begin(); r != replicas.end();) {
      if (now - r->second.heard < silent_after_) {
        ++r;
        continue;
      }
      job_of_attempt_.erase(r->first);
      r = replicas.erase(r);
    }
    s = replicas.empty() ? services_.erase(s) : std::next(s);
  }
}

bool service_table::ready(const replica& r, uint32_t version) {
  auto it = r.loaded.find(version);
  return !r.failed && it != r.loaded.end() && it->second.empty();
}

uint32_t service_table::ready_count(const service& s, uint32_t version) const {
  return static_cast<uint32_t>(
      std::count_if(s.replicas.begin(), s.replicas.end(),
                    [&](const auto& r) { return ready(r.second, version); }));
}

uint32_t service_table::choose_version(const service& s, const std::string& routing_key) {
  uint64_t total = 0;
  for (const auto& v : s.versions)
    if (v.weight > 0 && ready_count(s, v.version) > 0) total += v.weight;
  if (total > 0) {
    uint64_t point = (routing_key.empty() ? random_() : hash_of(routing_key)) % total;
    for (const auto& v : s.versions) {
      if (v.weight == 0 || ready_count(s, v.version) == 0) continue;
      if (point < v.weight) return v.version;
      point -= v.weight;
    }
  }
  // A switch over under way: the newest version some replica still serves from before.
  uint32_t newest = 0;
  for (const auto& [id, r] : s.replicas)
    for (const auto& [version, problem] : r.loaded)
      if (ready(r, version)) newest = std::max(newest, version);
  return newest;
}

std::variant<route, msg::error> service_table::route_request(const prediction_request& request,
                                                             const std::string& avoid) {
  auto found = std::find_if(services_.begin(), services_.end(), [&](const auto& s) {
    return s.second.identity.name == request.service &&
           (request.tenant.empty() || s.second.identity.tenant == request.tenant);
  });
  if (found == services_.end())
    return error(msg::error_code::not_found, "no service " + request.service + " is running");
  auto& s = found->second;
  const uint32_t version =
      request.version != 0 ? request.version : choose_version(s, request.routing_key);
  if (version == 0)
    return error(msg::error_code::unavailable,
                 "no replica of " + request.service + " is ready yet: retry later");
  const auto signature = s.signatures.find(version);
  if (signature == s.signatures.end())
    return error(msg::error_code::not_found,
                 request.service + " does not serve version " + std::to_string(version));
  if (request.feature_count != signature->second.input_features)
    return error(msg::error_code::invalid_request,
                 "version " + std::to_string(version) + " of " + s.model_name + " takes " +
                     std::to_string(signature->second.input_features) + " features per row, got " +
                     std::to_string(request.feature_count));
  std::vector<std::pair<const std::string*, const replica*>> candidates;
  for (const auto& [id, r] : s.replicas)
    if (id != avoid && ready(r, version)) candidates.push_back({&id, &r});
  if (candidates.empty())
    return error(msg::error_code::unavailable, "no replica of " + request.service +
                                                   " is ready for version " +
                                                   std::to_string(version) + ": retry later");
  const auto& [attempt, r] = candidates[s.turn++ % candidates.size()];
  return route{s.identity.job_id, *attempt, r->node_peer, version, s.model_name, signature->second};
}

void service_table::answered(const std::string& job_id, uint32_t version) {
  auto s = services_.find(job_id);
  if (s != services_.end()) ++s->second.requests[version];
}

std::vector<service_status> service_table::statuses(const std::string& tenant) const {
  std::vector<service_status> out;
  for (const auto& [job_id, s] : services_) {
    if (!tenant.empty() && s.identity.tenant != tenant) continue;
    service_status status;
    status.name = s.identity.name;
    status.tenant = s.identity.tenant;
    status.job_id = job_id;
    status.model = s.identity.model;
    status.replicas = s.identity.replicas;
    status.auth = s.identity.auth;
    status.cache = s.identity.cache;
    std::map<uint32_t, served_version> versions;
    for (const auto& v : s.versions)
      versions[v.version] = {v.version, v.weight, 0, v.signature, "", 0};
    for (const auto& [id, r] : s.replicas) {
      bool any = false;
      for (const auto& [version, problem] : r.loaded) {
        auto& served = versions[version];
        served.version = version;
        served.signature = s.signatures.at(version);
        if (ready(r, version)) {
          ++served.ready_replicas;
          any = true;
        } else if (!problem.empty()) {
          served.problem = problem;
        }
      }
      if (any) ++status.ready_replicas;
    }
    for (auto& [version, served] : versions) {
      auto requests = s.requests.find(version);
      served.requests = requests == s.requests.end() ? 0 : requests->second;
      status.versions.push_back(std::move(served));
    }
    out.push_back(std::move(status));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<std::pair<std::string, service_access>> service_table::accesses() const {
  std::vector<std::pair<std::string, service_access>> out;
  for (const auto& [job_id, s] : services_)
    out.push_back({s.identity.name, {s.identity.tenant, s.identity.auth}});
  return out;
}

const service_identity* service_table::service_of(const std::string& attempt_id) const {
  auto job = job_of_attempt_.find(attempt_id);
  return job == job_of_attempt_.end() ? nullptr : &services_.at(job->second).identity;
}

bool service_table::serves(const std::string& job_id, uint32_t version) const {
  auto s = services_.find(job_id);
  return s != services_.end() && s->second.signatures.count(version);
}

std::optional<std::vector<replica_address>> service_table::replicas_of(
    const std::string& name, const std::string& tenant) const {
  for (const auto& [job_id, s] : services_) {
    if (s.identity.name != name || (!tenant.empty() && s.identity.tenant != tenant)) continue;
    std::vector<replica_address> out;
    for (const auto& [id, r] : s.replicas)
      if (!r.failed) out.push_back({id, r.node_peer});
    return out;
  }
  return std::nullopt;
}

std::vector<std::string> service_table::problems_of(const std::string& attempt_id) const {
  std::vector<std::string> out;
  auto job = job_of_attempt_.find(attempt_id);
  if (job == job_of_attempt_.end()) return out;
  const auto& s = services_.at(job->second);
  for (const auto& [version, problem] : s.replicas.at(attempt_id).loaded) {
    const bool resolved = std::any_of(s.versions.begin(), s.versions.end(),
                                      [&](const auto& v) { return v.version == version; });
    if (resolved && !problem.empty())
      out.push_back("version " + std::to_string(version) + ": " + problem);
  }
  return out;
}

}  // namespace troupe::inference
