#include "cluster/store/migrations.hpp"

#include <chrono>

#include "cluster/store/store.hpp"

namespace troupe::store {

const std::vector<migration>& migrations() {
  static const std::vector<migration> all = {
      {1,
       "membership: one row per node the head has seen",
       {"CREATE TABLE nodes ("
        " node_id TEXT PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " incarnation BIGINT NOT NULL,"  // a uint64_t stored as its int64_t bit pattern
        " state TEXT NOT NULL,"
        " draining BOOLEAN NOT NULL,"
        " addresses_json TEXT NOT NULL,"
        " resources_json TEXT NOT NULL,"
        " labels_json TEXT NOT NULL,"
        " version TEXT NOT NULL,"
        " registered_at_ms BIGINT NOT NULL,"
        " state_changed_at_ms BIGINT NOT NULL)"}},
  };
  return all;
}

int latest_schema_version() { return migrations().back().version; }

int apply_migrations(sql_session& session) {
  session.execute(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY,"
      " applied_at_ms BIGINT NOT NULL)");
  const auto current = static_cast<int>(
      session.query_integer("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  if (current > latest_schema_version())
    throw store_error("schema version " + std::to_string(current) +
                      " is newer than this build of Troupe knows (" +
                      std::to_string(latest_schema_version()) + "); run a newer Troupe");
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const auto& m : migrations()) {
    if (m.version <= current) continue;
    for (const char* statement : m.statements) session.execute(statement);
    session.execute("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (" +
                    std::to_string(m.version) + ", " + std::to_string(now_ms) + ")");
  }
  return latest_schema_version();
}

namespace sql {

const char* const put_node =
    "INSERT INTO nodes (node_id, name, incarnation, state, draining, addresses_json,"
    " resources_json, labels_json, version, registered_at_ms, state_changed_at_ms)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (node_id) DO UPDATE SET name = excluded.name,"
    " incarnation = excluded.incarnation, state = excluded.state,"
    " draining = excluded.draining, addresses_json = excluded.addresses_json,"
    " resources_json = excluded.resources_json, labels_json = excluded.labels_json,"
    " version = excluded.version, registered_at_ms = excluded.registered_at_ms,"
    " state_changed_at_ms = excluded.state_changed_at_ms";

const char* const load_nodes =
    "SELECT node_id, name, incarnation, state, draining, addresses_json, resources_json,"
    " labels_json, version, registered_at_ms, state_changed_at_ms FROM nodes";

const char* const remove_node = "DELETE FROM nodes WHERE node_id = $1";

}  // namespace sql

}  // namespace troupe::store
