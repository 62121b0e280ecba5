// The jobs table, `jobs`: one row per submitted job, replaced as the job moves through its
// states. Its SQL and its mapping to job_record, written once for both backends.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::jobs_table {

// Part of migration 2: creates the table and the index that keeps (tenant, client_request_id)
// unique when client_request_id is not empty.
std::vector<std::string> create();

// Inserts the job, or replaces every column of the row with the same job_id. Throws when
// another job of the tenant has the same non-empty client_request_id.
void put(sql_session& session, const job_record& record);
std::vector<job_record> load(sql_session& session);
std::map<std::string, uint64_t> count_by_state(sql_session& session);

}  // namespace troupe::store::jobs_table
