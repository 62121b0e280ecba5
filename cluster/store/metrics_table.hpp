// The metrics table, `job_metrics`: the step and epoch reports of train jobs' ranks, keyed by
// (job_id, seq), with an index by (job_id, kind, seq) for keeping a job's newest steps. Its SQL
// and its mapping to metric_record, written once for both backends; every function runs inside
// the caller's transaction.
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::metrics_table {

// Migration 5: creates the table and its index.
std::vector<std::string> create();

void append(sql_session& session, const std::vector<metric_record>& rows, uint64_t keep_steps);
std::vector<metric_record> load(sql_session& session, const std::string& job_id, uint64_t after,
                                uint32_t limit);
uint64_t last_seq(sql_session& session, const std::string& job_id);

}  // namespace troupe::store::metrics_table
