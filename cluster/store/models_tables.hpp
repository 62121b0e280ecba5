// The model registry's tables: `models` (one row per name: its tenant and the highest version it
// ever had, the row that registrations and stage changes of the model lock), `model_versions`
// and `model_stage_changes`. Their SQL and their mapping to the records of store.hpp, written
// once for both backends; every function runs inside the caller's transaction.
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::models_tables {

// Migration 4: creates the three tables.
std::vector<std::string> create();
// Migration 6: versions get a signature (input features, output kind, classes) and a source;
// an imported version has no job.
std::vector<std::string> add_signature();

model_registration register_version(sql_session& session, const model_version_record& v);
std::vector<model_version_record> load_versions(sql_session& session, const std::string& name);
std::vector<model_stage_change> load_stage_changes(sql_session& session, const std::string& name);
std::vector<model_stage_change> change_stages(sql_session& session, const std::string& name,
                                              const models_store::stage_plan& plan);

}  // namespace troupe::store::models_tables
