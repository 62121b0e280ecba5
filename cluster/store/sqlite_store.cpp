#include "cluster/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <thread>

#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "cluster/store/migrations.hpp"

namespace troupe::store {
namespace {

constexpr int busy_timeout_ms = 5000;

struct database_closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct statement_finalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using database_ptr = std::unique_ptr<sqlite3, database_closer>;
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

// SQLite's message for the last failure on `db`, with the OS error for a file that could
// not be opened or read (sqlite3_system_errno is only meaningful then).
std::string describe(sqlite3* db) {
  std::string message = sqlite3_errmsg(db);
  const int primary = sqlite3_extended_errcode(db) & 0xff;
  const int os_error = sqlite3_system_errno(db);
  if ((primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR) && os_error != 0)
    message += std::string(" (") + std::strerror(os_error) + ")";
  return message;
}

void check(sqlite3* db, int rc) {
  if (rc != SQLITE_OK) throw std::runtime_error(describe(db));
}

void execute_sql(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? std::string(error) : describe(db);
    sqlite3_free(error);
    throw std::runtime_error(message);
  }
}

// Switching the journal mode needs the database to itself and, unlike statements, does not
// wait through the busy handler: retry it for as long as the busy timeout.
void enable_write_ahead_log(sqlite3* db) {
  for (int waited_ms = 0;; waited_ms += 10) {
    int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= busy_timeout_ms)
      throw std::runtime_error(describe(db));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

statement_ptr prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* statement = nullptr;
  check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr));
  return statement_ptr(statement);
}

// Hands a cached statement back in a clean state when a call is done with it.
class statement_use {
 public:
  explicit statement_use(sqlite3_stmt* statement) : statement_(statement) {}
  ~statement_use() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  statement_use(const statement_use&) = delete;
  statement_use& operator=(const statement_use&) = delete;

 private:
  sqlite3_stmt* statement_;
};

// Binds by name ("$1"): see sql:: in migrations.hpp.
int parameter(sqlite3_stmt* statement, int number) {
  const auto name = "$" + std::to_string(number);
  const int index = sqlite3_bind_parameter_index(statement, name.c_str());
  if (index == 0) throw std::logic_error("statement has no parameter " + name);
  return index;
}

void bind(sqlite3* db, sqlite3_stmt* statement, int number, const std::string& value) {
  if (value.size() > static_cast<size_t>(INT_MAX)) throw std::length_error("text too long");
  // nullptr is SQLITE_STATIC: `value` outlives the statement's execution.
  check(db, sqlite3_bind_text(statement, parameter(statement, number), value.data(),
                              static_cast<int>(value.size()), nullptr));
}

void bind(sqlite3* db, sqlite3_stmt* statement, int number, int64_t value) {
  check(db, sqlite3_bind_int64(statement, parameter(statement, number), value));
}

std::string text_column(sqlite3_stmt* statement, int column) {
  const auto* text = sqlite3_column_text(statement, column);
  const int size = sqlite3_column_bytes(statement, column);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size))
              : std::string();
}

// Steps a statement that returns no rows.
void run_to_completion(sqlite3* db, sqlite3_stmt* statement) {
  if (sqlite3_step(statement) != SQLITE_DONE) throw std::runtime_error(describe(db));
}

class sqlite_session final : public sql_session {
 public:
  explicit sqlite_session(sqlite3* db) : db_(db) {}
  void execute(const std::string& sql) override { execute_sql(db_, sql); }
  long long query_integer(const std::string& sql) override {
    auto statement = prepare(db_, sql.c_str());
    if (sqlite3_step(statement.get()) != SQLITE_ROW) throw std::runtime_error(describe(db_));
    return sqlite3_column_int64(statement.get(), 0);
  }

 private:
  sqlite3* db_;
};

class sqlite_store final : public membership_store {
 public:
  sqlite_store(const std::string& path, const std::string& url) : url_(url) {
    try {
      sqlite3* db = nullptr;
      const int rc =
          sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
      db_.reset(db);  // closed even when the open failed
      if (!db) throw std::runtime_error(sqlite3_errstr(rc));
      check(db, rc);
      check(db, sqlite3_extended_result_codes(db, 1));
      check(db, sqlite3_busy_timeout(db, busy_timeout_ms));
      enable_write_ahead_log(db);
      execute_sql(db, "PRAGMA synchronous=FULL");  // acknowledged writes survive a power cut
      migrate();
      put_ = prepare(db, sql::put_node);
      load_ = prepare(db, sql::load_nodes);
      remove_ = prepare(db, sql::remove_node);
    } catch (const std::exception& e) {
      throw store_error("cannot open store " + url_ + ": " + e.what());
    }
  }

  void put_node(const node_record& r) override {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      auto* db = db_.get();
      auto* s = put_.get();
      statement_use use(s);
      bind(db, s, 1, r.node_id);
      bind(db, s, 2, r.name);
      bind(db, s, 3, static_cast<int64_t>(r.incarnation));
      bind(db, s, 4, r.state);
      bind(db, s, 5, int64_t{r.draining ? 1 : 0});
      bind(db, s, 6, r.addresses_json);
      bind(db, s, 7, r.resources_json);
      bind(db, s, 8, r.labels_json);
      bind(db, s, 9, r.version);
      bind(db, s, 10, r.registered_at_ms);
      bind(db, s, 11, r.state_changed_at_ms);
      run_to_completion(db, s);
    } catch (const std::exception& e) {
      throw store_error("store " + url_ + ": cannot write node " + r.node_id + ": " + e.what());
    }
  }

  std::vector<node_record> load_nodes() override {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      auto* s = load_.get();
      statement_use use(s);
      std::vector<node_record> nodes;
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        node_record r;
        r.node_id = text_column(s, 0);
        r.name = text_column(s, 1);
        r.incarnation = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
        r.state = text_column(s, 3);
        r.draining = sqlite3_column_int64(s, 4) != 0;
        r.addresses_json = text_column(s, 5);
        r.resources_json = text_column(s, 6);
        r.labels_json = text_column(s, 7);
        r.version = text_column(s, 8);
        r.registered_at_ms = sqlite3_column_int64(s, 9);
        r.state_changed_at_ms = sqlite3_column_int64(s, 10);
        nodes.push_back(std::move(r));
      }
      if (rc != SQLITE_DONE) throw std::runtime_error(describe(db_.get()));
      return nodes;
    } catch (const std::exception& e) {
      throw store_error("store " + url_ + ": cannot read nodes: " + e.what());
    }
  }

  void remove_node(const std::string& node_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      auto* s = remove_.get();
      statement_use use(s);
      bind(db_.get(), s, 1, node_id);
      run_to_completion(db_.get(), s);
    } catch (const std::exception& e) {
      throw store_error("store " + url_ + ": cannot remove node " + node_id + ": " + e.what());
    }
  }

 private:
  // BEGIN IMMEDIATE takes the write lock first, so two processes opening the same new file
  // migrate one after the other (the second waits up to the busy timeout).
  void migrate() {
    auto* db = db_.get();
    execute_sql(db, "BEGIN IMMEDIATE");
    try {
      sqlite_session session(db);
      apply_migrations(session);
      execute_sql(db, "COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::string url_;
  std::mutex mutex_;
  database_ptr db_;  // declared before the statements: finalized after them
  statement_ptr put_;
  statement_ptr load_;
  statement_ptr remove_;
};

}  // namespace

std::unique_ptr<membership_store> open_sqlite_store(const std::string& path,
                                                    const std::string& url) {
  return std::make_unique<sqlite_store>(path, url);
}

}  // namespace troupe::store
