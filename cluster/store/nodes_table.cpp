#include "cluster/store/nodes_table.hpp"

namespace troupe::store::nodes_table {

std::vector<std::string> create() {
  return {
      "CREATE TABLE nodes ("
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
      " state_changed_at_ms BIGINT NOT NULL)"};
}

void put(sql_session& session, const node_record& r) {
  session.execute(
      "INSERT INTO nodes (node_id, name, incarnation, state, draining, addresses_json,"
      " resources_json, labels_json, version, registered_at_ms, state_changed_at_ms)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
      " ON CONFLICT (node_id) DO UPDATE SET name = excluded.name,"
      " incarnation = excluded.incarnation, state = excluded.state,"
      " draining = excluded.draining, addresses_json = excluded.addresses_json,"
      " resources_json = excluded.resources_json, labels_json = excluded.labels_json,"
      " version = excluded.version, registered_at_ms = excluded.registered_at_ms,"
      " state_changed_at_ms = excluded.state_changed_at_ms",
      {r.node_id, r.name, static_cast<int64_t>(r.incarnation), r.state, int64_t{r.draining ? 1 : 0},
       r.addresses_json, r.resources_json, r.labels_json, r.version, r.registered_at_ms,
       r.state_changed_at_ms});
}

void remove(sql_session& session, const std::string& node_id) {
  session.execute("DELETE FROM nodes WHERE node_id = $1", {node_id});
}

std::vector<node_record> load(sql_session& session) {
  std::vector<node_record> nodes;
  for (const auto& row : session.query(
           "SELECT node_id, name, incarnation, state, draining, addresses_json, resources_json,"
           " labels_json, version, registered_at_ms, state_changed_at_ms FROM nodes")) {
    node_record r;
    r.node_id = row.text(0);
    r.name = row.text(1);
    r.incarnation = static_cast<uint64_t>(row.integer(2));
    r.state = row.text(3);
    r.draining = row.integer(4) != 0;
    r.addresses_json = row.text(5);
    r.resources_json = row.text(6);
    r.labels_json = row.text(7);
    r.version = row.text(8);
    r.registered_at_ms = row.integer(9);
    r.state_changed_at_ms = row.integer(10);
    nodes.push_back(std::move(r));
  }
  return nodes;
}

}  // namespace troupe::store::nodes_table
