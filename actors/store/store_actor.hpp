// The write-ahead queue between the head's actors and the store. Every write is queued and
// lands exactly in the order of the writes to its row; a write the store fails is retried
// (every 250 ms) until it lands, however long the store is down. Writes that arrive while a
// transaction is under way are batched into the next one (group commit). While the queue
// holds a row's write that has not started, a newer write of that row replaces it, so an
// outage queues at most one write per row.
//   (store_atom, store_write)               queues the write
//   (store_atom, confirm_atom, store_write) -> bool  queues the write and answers true once
//       it is stored, or false as soon as the store fails (the write stays queued and lands
//       once the store recovers): bounded by store::longest_call.
//   (store_atom, confirm_atom, vector<store_write>) -> bool  the same for several writes: true
//       once every one of them is stored.
//   (store_atom, later_atom, vector<store_write>)  queues writes that nothing waits for: they
//       land with the next batch that holds another write, or after `later_delay`
//       (spawn_store_actor) at the latest (a fast task's "running" rides with its end instead of
//       costing a commit of its own).
// The queue lives in memory: writes still queued when the head process dies are lost (see
// docs/store.md for what a restarted head does about that).
// The store is checked every second, also when idle: once its data is gone (store_lost) the
// queue stops writing and calls `on_lost`, which must stop the head: it must not keep
// answering over a store that is gone.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "cluster/store/store.hpp"

namespace troupe::actors {

inline constexpr std::chrono::milliseconds default_later_delay{50};

caf::actor spawn_store_actor(caf::actor_system& system, std::shared_ptr<store::cluster_store> store,
                             std::function<void()> on_lost,
                             std::chrono::milliseconds later_delay = default_later_delay);

}  // namespace troupe::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::store::store_write)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<troupe::store::store_write>)
