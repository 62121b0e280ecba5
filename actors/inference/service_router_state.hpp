// The service router's state and the steps its two files share (service_router.hpp): the
// clients' side (predictions, reloads, the actor) is in service_router.cpp, the replicas' side
// (their resolutions, their reports, the head's links to their prediction sockets) in
// service_router_replicas.cpp.
#pragma once

#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/inference/replica_links.hpp"
#include "actors/inference/service_router.hpp"
#include "actors/inference/service_table.hpp"
#include "actors/jobs/job_service.hpp"
#include "cluster/inference/response_cache.hpp"

namespace troupe::inference::router_detail {

using actors::inbound;
using job_service::job_view;
using steady = std::chrono::steady_clock;
using done_fn = std::function<void(prediction_result)>;
using services_fn = std::function<void(std::vector<service_status>)>;
using reload_fn = std::function<void(std::optional<msg::error>)>;

using predict_atom = caf::atom_constant<caf::atom("predict")>;
using services_atom = caf::atom_constant<caf::atom("services")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;

constexpr auto job_service_timeout = std::chrono::seconds(5);
constexpr auto replica_wait = std::chrono::seconds(5);
constexpr auto reload_wait = std::chrono::seconds(10);
constexpr auto sweep_interval = std::chrono::milliseconds(250);
constexpr uint32_t most_features = 65'536;
constexpr uint32_t most_rows = 4096;
// The ids of the router's requests to nodes: apart from every id a node's own requests use, so
// that sending one never releases a request of the node's budget (wire_endpoint::send).
constexpr uint64_t router_id_bit = uint64_t{1} << 62;

// A prediction on its way to a replica.
struct pending {
  prediction_request request;
  done_fn done;
  route to;
  bool retried = false;
  steady::time_point give_up;
};

// A reload waiting for its service's replicas: each was told to resolve now, and counts once it
// resolved after that and then reported what it loaded.
struct reload {
  std::string service;
  std::map<std::string, bool> replicas;  // attempt id -> resolved since it was told
  std::vector<std::string> problems;     // "replica A: version V: why"
  steady::time_point give_up;
  reload_fn done;
};

struct router_state {
  static inline const char* name = "service_router";
  service_router_deps deps;
  std::unique_ptr<replica_links> links;  // made once the router's address is known
  // The address each replica's node registered with, from its resolution: by attempt id.
  std::map<std::string, std::string> replica_hosts;
  service_table table{std::random_device{}()};
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, pending> waiting;  // by the request id sent to the node
  std::map<std::string, response_cache> caches;   // by job id, of services with a cache
  std::vector<reload> reloads;
};

using self_ptr = caf::stateful_actor<router_state>*;

msg::error error(msg::error_code code, std::string why);
void reply(self_ptr self, const inbound& in, msg::body body);
// The replica did not answer: once more on another, else `unavailable` with why.
void replica_failed(self_ptr self, pending p, const std::string& why);
void reload_resolved(self_ptr self, const std::string& attempt_id);
// The replica no longer keeps the reloads waiting on it: it reported after resolving, or its
// attempt ended.
void reload_heard(self_ptr self, const std::string& attempt_id, bool ended);

// The replicas' side (service_router_replicas.cpp).
// A replica's ResolveServiceRequest, relayed by its node: checked with the job service, answered
// from the registry's versions.
void on_resolve(self_ptr self, const inbound& in, const msg::resolve_service_request& r);
// A replica's ReplicaReport: its prediction socket checked and linked, then what it loaded.
void on_report(self_ptr self, const inbound& in, const msg::replica_report& r);
// The replica is gone: its link closes, and what waits for it is asked of another at once.
void unlink_replica(self_ptr self, const std::string& attempt_id, const std::string& why);

}  // namespace troupe::inference::router_detail
