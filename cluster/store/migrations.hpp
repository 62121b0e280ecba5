// The schema, as an ordered list of migrations written in SQL that SQLite and PostgreSQL
// both accept, the one routine that applies them, and the statements both backends run on
// the current schema.
//
// Rules: a migration, once released, is never edited; a change is a new migration with the
// next version. schema_migrations holds one row per applied version. A store whose highest
// version is above the latest known here was written by a newer Troupe and is refused.
#pragma once

#include <string>
#include <vector>

namespace troupe::store {

struct migration {
  int version;  // 1, 2, 3, ... in order
  const char* description;
  std::vector<const char*> statements;
};

const std::vector<migration>& migrations();
int latest_schema_version();

// What apply_migrations needs from a backend's connection. Errors are thrown as anything
// derived from std::exception; the backend turns them into store_error.
class sql_session {
 public:
  virtual ~sql_session() = default;
  virtual void execute(const std::string& sql) = 0;
  // The first column of the first row of `sql`, as an integer.
  virtual long long query_integer(const std::string& sql) = 0;
};

// Creates schema_migrations when missing and applies the migrations above its highest
// version, recording each. The caller wraps the call in one transaction holding the
// backend's write lock, so concurrent opens serialize and a failure leaves no trace.
// Throws store_error for a schema newer than this build. Returns the schema version.
int apply_migrations(sql_session& session);

// Statements on the current schema. Parameters are $1..$n: PostgreSQL's form, which SQLite
// reads as named parameters (bind them by name, "$1", not by position).
namespace sql {
// $1..$11: the node_record fields in declaration order; incarnation as its int64_t bit
// pattern. Inserts, or replaces every column of the row with the same node_id.
extern const char* const put_node;
// Columns in node_record's declaration order.
extern const char* const load_nodes;
// $1: node_id.
extern const char* const remove_node;
}  // namespace sql

}  // namespace troupe::store
