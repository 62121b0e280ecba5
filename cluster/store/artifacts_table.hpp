// The artifacts table, `artifacts`: one row per stored version of an artifact, keyed by
// (tenant, name, digest); the version of a name with the latest created_at_ms is the one the
// name means. The bytes themselves live in the head's blob store (cluster/artifacts).
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::artifacts_table {

// Migration 3: creates the table.
std::vector<std::string> create();

// Inserts the version, or replaces every column of the row with the same key.
void put(sql_session& session, const artifact_record& record);
// Deletes the version's row, when there is one.
void remove(sql_session& session, const artifact_removal& removal);
std::vector<artifact_record> load(sql_session& session);

}  // namespace troupe::store::artifacts_table
