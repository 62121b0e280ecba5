// The schema, as an ordered list of migrations written in SQL that SQLite and PostgreSQL
// both accept, and the one routine that applies them. A table's statements live in its own
// file (nodes_table.cpp); this list only orders them: a new table is a new file plus one
// line here.
//
// Rules: a migration, once released, is never edited; a change is a new migration with the
// next version. schema_migrations holds one row per applied version. A store whose highest
// version is above the latest known here was written by a newer Troupe and is refused.
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"

namespace troupe::store {

struct migration {
  int version;  // 1, 2, 3, ... in order
  const char* description;
  std::vector<std::string> statements;
};

const std::vector<migration>& migrations();
int latest_schema_version();

// Creates schema_migrations when missing and applies the migrations above its highest
// version, recording each. The caller runs it in one transaction holding the backend's
// write lock, so concurrent opens serialize and a failure leaves no trace.
// Throws store_error for a schema newer than this build. Returns the schema version.
int apply_migrations(sql_session& session);

}  // namespace troupe::store
