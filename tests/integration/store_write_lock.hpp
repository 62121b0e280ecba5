// Holds the write lock of the head's SQLite store (`file`, in WAL mode) while it lives: every
// write of the head waits (and fails after its busy timeout, and is retried) until it goes away.
// Taking the lock waits up to 5 s for a write of the head's in progress.
#pragma once

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <string>

namespace troupe::local {

class store_write_lock {
 public:
  explicit store_write_lock(const std::string& file) {
    BOOST_TEST_REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
    BOOST_TEST_REQUIRE(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK,
                       sqlite3_errmsg(db_));
  }
  ~store_write_lock() {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }
  store_write_lock(const store_write_lock&) = delete;
  store_write_lock& operator=(const store_write_lock&) = delete;

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace troupe::local
