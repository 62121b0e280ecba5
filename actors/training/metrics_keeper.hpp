// The metrics log (metrics_log.hpp) on a thread of its own (a detached actor: its store calls
// block), flushed every flush_interval while entries wait. A flush the store fails is logged as
// an error once, retried every flush_interval, and its recovery logged; an actor that stops
// (the head stopping) stores what waits first.
//   (put_atom, job_id, metrics_report)       one-way: queues the report's entries for the job
//   (get_atom, job_id, after, most) -> vector<metric_entry>, or an error when the store fails
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "cluster/store/store.hpp"
#include "messages/training.hpp"

namespace troupe::training {

struct metrics_settings {
  uint64_t keep_steps = 100'000;                   // per job, the newest; every epoch is kept
  std::chrono::milliseconds flush_interval{1000};  // also the retry interval of a failed write
};

// Spawned linked to `owner`, so that it stops with it.
caf::actor spawn_metrics_keeper(caf::local_actor* owner,
                                std::shared_ptr<store::cluster_store> store,
                                metrics_settings settings);
// The same, on its own (for tests).
caf::actor spawn_metrics_keeper(caf::actor_system& system,
                                std::shared_ptr<store::cluster_store> store,
                                metrics_settings settings);

}  // namespace troupe::training

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::msg::metrics_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<troupe::msg::metric_entry>)
