// The PostgreSQL backend (libpqxx 6.4): one connection, reopened when the server drops it.
// Each call is one transaction. Every call is idempotent (an upsert, a delete, a read), so
// a call that meets a dropped connection reconnects and runs once more before failing.
#pragma once

#include <memory>
#include <string>

#include "cluster/store/store.hpp"

namespace troupe::store {

// Connects to `url` (a libpq URI; connect_timeout=10 is added when it sets none) and
// migrates the schema its search_path selects. Throws store_error.
std::unique_ptr<membership_store> open_postgres_store(const std::string& url);

}  // namespace troupe::store
