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
#include <string>
#include <vector>

#include "actors/inference/prediction_desk.hpp"
#include "actors/inference/service_router.hpp"
#include "actors/inference/service_table.hpp"
#include "actors/jobs/job_service.hpp"

namespace troupe::inference::router_detail {

using actors::inbound;
using job_service::job_view;
using steady = std::chrono::steady_clock;
using services_fn = std::function<void(std::vector<service_status>)>;
using reload_fn = std::function<void(std::optional<msg::error>)>;

using services_atom = caf::atom_constant<caf::atom("services")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;

constexpr auto job_service_timeout = std::chrono::seconds(5);
constexpr auto reload_wait = std::chrono::seconds(10);
constexpr auto sweep_interval = std::chrono::milliseconds(250);
// The ids of the router's requests to nodes: apart from every id a node's own requests use, so
// that sending one never releases a request of the node's budget (wire_endpoint::send).
constexpr uint64_t router_id_bit = uint64_t{1} << 62;

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
  // The address each replica's node registered with, from its resolution: by attempt id.
  std::map<std::string, std::string> replica_hosts;
  uint64_t next_id = 1;  // of the router's requests to nodes
  std::vector<reload> reloads;
};

using self_ptr = caf::stateful_actor<router_state>*;

msg::error error(msg::error_code code, std::string why);
void reply(self_ptr self, const inbound& in, msg::body body);
// The service table, under the desk's lock.
template <class F>
decltype(auto) with_table(self_ptr self, F&& f) {
  return self->state.deps.desk->with_table(std::forward<F>(f));
}
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
