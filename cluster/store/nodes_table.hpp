// The membership table, `nodes`: one row per node the head has seen. Its SQL and its mapping
// to node_record, written once for both backends.
#pragma once

#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::nodes_table {

// Migration 1: creates the table.
std::vector<std::string> create();

// Inserts the node, or replaces every column of the row with the same node_id.
void put(sql_session& session, const node_record& record);
// Deletes the node's row; an unknown node_id changes nothing.
void remove(sql_session& session, const std::string& node_id);
std::vector<node_record> load(sql_session& session);

}  // namespace troupe::store::nodes_table
