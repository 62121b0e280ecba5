// The metrics tables: `job_metrics`, the step and epoch reports of train jobs' ranks, keyed by
// (job_id, seq), with an index by (job_id, kind, seq) for finding a job's oldest steps; and
// `job_metric_counts`, how many step rows each job has there, so that keeping the newest ones
// costs what it deletes. Their SQL and their mapping to metric_record, written once for both
// backends; every function runs inside the caller's transaction.
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::metrics_table {

// Migration 5: creates the tables and the index.
std::vector<std::string> create();

void append(sql_session& session, const std::vector<metric_record>& rows, uint64_t keep_steps);
std::vector<metric_record> load(sql_session& session, const std::string& job_id, uint64_t after,
                                uint32_t limit);
uint64_t last_seq(sql_session& session, const std::string& job_id);

}  // namespace troupe::store::metrics_table
