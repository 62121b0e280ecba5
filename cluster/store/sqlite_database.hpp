// The SQLite backend: one file, in WAL mode with synchronous=FULL (an acknowledged write
// survives a power cut) and a busy timeout, so that a second connection to the file waits
// for the lock instead of failing at once. The file is watched: once it is deleted, replaced
// or truncated under the open database, every call throws store_lost.
#pragma once

#include <memory>
#include <string>

#include "cluster/store/sql.hpp"

namespace troupe::store {

// Opens or creates the database file at `path` (its directory must exist) and migrates it.
// An existing empty file is refused: SQLite would silently treat it as a new database.
// `url` names the store in error messages. Throws store_error.
std::unique_ptr<sql_database> open_sqlite_database(const std::string& path, const std::string& url);

}  // namespace troupe::store
