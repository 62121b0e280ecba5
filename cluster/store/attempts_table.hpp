// The attempts table, `attempts`: one row per attempt of one task of a job (where it was
// placed, how it ran, how it ended), replaced as the attempt moves through its states. Its SQL
// and its mapping to attempt_record, written once for both backends.
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::attempts_table {

// Part of migration 2: creates the table.
std::vector<std::string> create();

// Inserts the attempt, or replaces every column of the row with the same attempt_id.
void put(sql_session& session, const attempt_record& record);
std::vector<attempt_record> load(sql_session& session);

}  // namespace troupe::store::attempts_table
