// The PostgreSQL backend (libpqxx 6.4): one connection, reopened when the server drops it.
// Each transaction is retried once on a new connection when the old one was dropped.
// Statements time out after store::statement_timeout on the server, and a connection whose
// server does not answer for store::answer_timeout is cut (see store.hpp).
#pragma once

#include <memory>
#include <string>

#include "cluster/store/sql.hpp"

namespace troupe::store {

// Connects to `url` (a libpq URI; store::connect_timeout is added when it sets none) and
// migrates the schema its search_path selects. Throws store_error.
std::unique_ptr<sql_database> open_postgres_database(const std::string& url);

}  // namespace troupe::store
