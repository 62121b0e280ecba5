// Conversion between the registry's entries and the store's rows.
#pragma once

#include <chrono>

#include "actors/membership/registry.hpp"
#include "cluster/store/store.hpp"

namespace troupe::membership {

store::node_record to_record(const node_entry& entry);

// Throws std::runtime_error for a row whose JSON columns cannot be read.
node_entry from_record(const store::node_record& record, heartbeat_history history);

}  // namespace troupe::membership
