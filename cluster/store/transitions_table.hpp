// The transitions table, `transitions`: every state change of every job, in order (seq 1, 2,
// ... per job), with its time and reason. The head only inserts; writing the same (job_id, seq)
// again replaces it, so a batch retried after a lost commit lands once. Its SQL and its
// mapping to job_transition, written once for both backends.
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::transitions_table {

// Part of migration 2: creates the table.
std::vector<std::string> create();

void put(sql_session& session, const job_transition& transition);
// Ordered by job_id (byte order), then seq.
std::vector<job_transition> load(sql_session& session);

}  // namespace troupe::store::transitions_table
