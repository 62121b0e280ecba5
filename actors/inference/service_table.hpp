// The head's service router's decisions, as plain C++ (the router actor wraps it): which serve
// jobs run, what each serves, which of its replicas answer which version, and where a
// prediction goes.
//
// A replica is known once its node relayed its first ResolveServiceRequest (then the table knows
// its service's versions and weights) and ready for a version once its ReplicaReport says it
// loaded it. A replica that has not resolved for `silent_after` is dropped (it polls every
// second while it runs), and one the job service says has ended at once; so is a service with no
// replica left.
//
// Routing: a request naming a version goes to a replica ready for it. Otherwise the version is
// chosen by the service's weights among the versions it resolves to that some replica is ready
// for (a routing key hashes to a fixed point of the split, so the same key gets the same
// version); when none of those is ready yet, a version a replica still serves from before (a
// promotion under way) answers, so that a switch over loses no request. Within a version,
// replicas take turns. A retry names the replica that failed, and another is chosen.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "cluster/inference/predictor.hpp"

namespace troupe::inference {

using table_clock = std::chrono::steady_clock;

// What the head resolved a serve job's model reference to: its service and versions.
struct service_identity {
  std::string name;  // the job's name
  std::string tenant;
  std::string job_id;
  std::string model;  // as the spec names it
  uint32_t replicas = 0;
  auth_policy auth;
  cache_policy cache;
};

struct resolved_version {
  uint32_t version = 0;
  uint32_t weight = 0;
  model_signature signature;
};

// A replica, and the node connection it is reached through.
struct replica_address {
  std::string attempt_id;
  std::string node_peer;
};

// Where one prediction goes.
struct route {
  std::string job_id;
  std::string attempt_id;
  std::string node_peer;
  uint32_t version = 0;
  std::string model_name;
  model_signature signature;
};

class service_table {
 public:
  explicit service_table(uint64_t seed,
                         table_clock::duration silent_after = std::chrono::seconds(3));

  // A replica's resolution, relayed by the node at `node_peer`.
  void resolved(const service_identity& service, const std::string& model_name,
                std::vector<resolved_version> versions, const std::string& attempt_id,
                const std::string& node_peer, table_clock::time_point now);
  // A replica's report: the versions it loaded (problem empty) and those it could not. False
  // when the replica is not known from that node (it must resolve first).
  bool reported(const std::string& attempt_id, const std::string& node_peer,
                const std::vector<std::pair<uint32_t, std::string>>& versions);
  // The replica failed to answer (its process or node is gone): it takes no request until it
  // resolves again.
  void failed(const std::string& attempt_id);
  // The replica's attempt ended: it is dropped at once, and so is a service without any left.
  void ended(const std::string& attempt_id);
  void drop_silent(table_clock::time_point now);

  // Where `request` goes, or notFound / unavailable / invalidRequest. `avoid`: a replica that
  // failed this request already.
  std::variant<route, msg::error> route_request(const prediction_request& request,
                                                const std::string& avoid = {});
  void answered(const std::string& job_id, uint32_t version);

  std::vector<service_status> statuses(const std::string& tenant) const;
  // Every running service's name and access policy.
  std::vector<std::pair<std::string, service_access>> accesses() const;
  // The service `attempt_id` is a replica of, once it resolved; null otherwise.
  const service_identity* service_of(const std::string& attempt_id) const;
  bool runs(const std::string& job_id) const { return services_.count(job_id) > 0; }
  // Whether the service of `job_id` runs and resolved `version` for some replica.
  bool serves(const std::string& job_id, uint32_t version) const;

  // The replicas of the service named `name` that `tenant` may see (empty: any) and that have
  // not failed; nullopt when no such service runs.
  std::optional<std::vector<replica_address>> replicas_of(const std::string& name,
                                                          const std::string& tenant) const;
  // What the replica reported it could not load, of the versions its service resolves to now:
  // "version V: why" each.
  std::vector<std::string> problems_of(const std::string& attempt_id) const;

 private:
  struct replica {
    std::string node_peer;
    std::map<uint32_t, std::string> loaded;  // version -> problem (empty: ready)
    bool failed = false;
    table_clock::time_point heard;
  };
  struct service {
    service_identity identity;
    std::string model_name;
    std::vector<resolved_version> versions;
    std::map<std::string, replica> replicas;         // by attempt id
    std::map<uint32_t, uint64_t> requests;           // answered, per version
    std::map<uint32_t, model_signature> signatures;  // of every version ever resolved
    uint64_t turn = 0;
  };

  static bool ready(const replica& r, uint32_t version);
  uint32_t ready_count(const service& s, uint32_t version) const;
  // The version a request without one goes to, or 0 when no replica is ready for any.
  uint32_t choose_version(const service& s, const std::string& routing_key);

  std::map<std::string, service> services_;  // by job id
  std::map<std::string, std::string> job_of_attempt_;
  std::mt19937_64 random_;
  table_clock::duration silent_after_;
};

}  // namespace troupe::inference
