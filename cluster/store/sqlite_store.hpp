// The SQLite backend: one file, in WAL mode with synchronous=NORMAL (durable across a crash
// of the process, consistent across a power cut) and a busy timeout, so that a second
// connection to the file waits for the lock instead of failing at once.
#pragma once

#include <memory>
#include <string>

#include "cluster/store/store.hpp"

namespace troupe::store {

// Opens or creates the database file at `path` (its directory must exist) and migrates it.
// `url` names the store in error messages. Throws store_error.
std::unique_ptr<membership_store> open_sqlite_store(const std::string& path,
                                                    const std::string& url);

}  // namespace troupe::store
