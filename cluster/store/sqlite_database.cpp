#include "cluster/store/sqlite_database.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "cluster/store/migrations.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store {
namespace {

constexpr int busy_timeout_ms = 5000;
static_assert(std::chrono::milliseconds(busy_timeout_ms) <= longest_call);

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

void execute_script(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
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

// Binds by name ("$1"): see sql.hpp.
int parameter_index(sqlite3_stmt* statement, size_t number) {
  const auto name = "$" + std::to_string(number);
  const int index = sqlite3_bind_parameter_index(statement, name.c_str());
  if (index == 0) throw std::logic_error("statement has no parameter " + name);
  return index;
}

void bind(sqlite3* db, sqlite3_stmt* statement, const sql_params& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = parameter_index(statement, i + 1);
    if (const auto* number = std::get_if<int64_t>(&params[i])) {
      check(db, sqlite3_bind_int64(statement, index, *number));
      continue;
    }
    if (const auto* real = std::get_if<double>(&params[i])) {
      check(db, sqlite3_bind_double(statement, index, *real));
      continue;
    }
    if (std::holds_alternative<std::nullptr_t>(params[i])) {
      check(db, sqlite3_bind_null(statement, index));
      continue;
    }
    const auto& text = std::get<std::string>(params[i]);
    if (text.size() > static_cast<size_t>(INT_MAX)) throw std::length_error("text too long");
    // nullptr is SQLITE_STATIC: `params` outlives the statement's execution.
    check(db,
          sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), nullptr));
  }
}

sql_value column_value(sqlite3_stmt* statement, int column) {
  const int type = sqlite3_column_type(statement, column);
  if (type == SQLITE_INTEGER) return int64_t{sqlite3_column_int64(statement, column)};
  if (type == SQLITE_FLOAT) return sqlite3_column_double(statement, column);
  if (type == SQLITE_NULL) return nullptr;
  const auto* text = sqlite3_column_text(statement, column);
  const int size = sqlite3_column_bytes(statement, column);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size))
              : std::string();
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

// Which file a path names, to notice when it is deleted, replaced or truncated.
struct file_identity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
};

// Statements are prepared once and cached by their text.
class sqlite_session final : public sql_session {
 public:
  explicit sqlite_session(sqlite3* db) : db_(db) {}

  void execute(const std::string& sql, const sql_params& params) override {
    auto* statement = prepared(sql);
    statement_use use(statement);
    bind(db_, statement, params);
    if (sqlite3_step(statement) != SQLITE_DONE) throw std::runtime_error(describe(db_));
  }

  std::vector<sql_row> query(const std::string& sql, const sql_params& params) override {
    auto* statement = prepared(sql);
    statement_use use(statement);
    bind(db_, statement, params);
    std::vector<sql_row> rows;
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      sql_row row;
      for (int c = 0; c < sqlite3_column_count(statement); ++c)
        row.values.push_back(column_value(statement, c));
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) throw std::runtime_error(describe(db_));
    return rows;
  }

 private:
  sqlite3_stmt* prepared(const std::string& sql) {
    auto& statement = statements_[sql];
    if (!statement) {
      sqlite3_stmt* raw = nullptr;
      check(db_,
            sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr));
      statement.reset(raw);
    }
    return statement.get();
  }

  sqlite3* db_;
  std::map<std::string, statement_ptr> statements_;
};

// An open database file and its statement cache; the statements are finalized first.
class connection {
 public:
  connection(const std::string& path, int flags) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    db_.reset(db);  // closed even when the open failed
    if (!db) throw std::runtime_error(sqlite3_errstr(rc));
    check(db, rc);
    check(db, sqlite3_extended_result_codes(db, 1));
    check(db, sqlite3_busy_timeout(db, busy_timeout_ms));
    enable_write_ahead_log(db);
    execute_script(db, "PRAGMA synchronous=FULL");  // acknowledged writes survive a power cut
    session_ = std::make_unique<sqlite_session>(db);
  }

  // BEGIN IMMEDIATE takes the write lock first, so that two writers (two processes opening
  // the same file, say) run one after the other (the second waits up to the busy timeout).
  void transaction(const std::function<void(sql_session&)>& body) {
    auto* db = db_.get();
    execute_script(db, "BEGIN IMMEDIATE");
    try {
      body(*session_);
      execute_script(db, "COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

 private:
  database_ptr db_;
  std::unique_ptr<sqlite_session> session_;
};

void migrate(connection& c) {
  c.transaction([](sql_session& s) { apply_migrations(s); });
}

// Creates the store file complete: migrated in a file of its own, then linked into place
// (unless another process was first), so that the path never names an empty file that a
// store made. An empty file at the path is therefore a lost store, never a new one.
void create_migrated(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const auto temporary =
      path + ".new-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  try {
    connection c(temporary, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    migrate(c);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }  // closing the last connection checkpoints the write-ahead log into the file
  const int linked = ::link(temporary.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(temporary.c_str());
  if (linked != 0 && link_errno != EEXIST)
    throw std::runtime_error(std::string("cannot create the file: ") + std::strerror(link_errno));
}

class sqlite_database final : public sql_database {
 public:
  sqlite_database(const std::string& path, const std::string& url) : path_(path), url_(url) {
    try {
      if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) create_migrated(path);
      refuse_an_empty_file();
      connection_ = std::make_unique<connection>(path, SQLITE_OPEN_READWRITE);
      identity_ = identity_of_path();
      migrate(*connection_);  // a file of an older schema is brought up to date
    } catch (const std::exception& e) {
      throw store_error("cannot open store " + url_ + ": " + e.what());
    }
  }

  void transaction(const std::function<void(sql_session&)>& body) override {
    std::lock_guard<std::mutex> lock(mutex_);
    check_intact_locked();
    try {
      connection_->transaction(body);
    } catch (const std::exception& e) {
      throw store_error("store " + url_ + ": " + e.what());
    }
  }

  void check_intact() override {
    std::lock_guard<std::mutex> lock(mutex_);
    check_intact_locked();
  }

  const std::string& name() const override { return url_; }

 private:
  void refuse_an_empty_file() const {
    struct stat info {};
    if (::stat(path_.c_str(), &info) == 0 && S_ISREG(info.st_mode) && info.st_size == 0)
      throw store_error(
          "the file is empty, so the store it held is lost (a store file is never empty once "
          "created: it was truncated). Restore it from a backup, or move it away to start "
          "with an empty store");
  }

  // stat() of the path; throws store_lost when there is no file there.
  file_identity identity_of_path() const {
    struct stat info {};
    if (::stat(path_.c_str(), &info) != 0)
      throw store_lost("store " + url_ + ": the store file " + path_ +
                       " is gone (deleted while the head ran?): " + std::strerror(errno));
    return {info.st_dev, info.st_ino, info.st_size};
  }

  void check_intact_locked() const {
    const auto now = identity_of_path();
    if (now.device != identity_.device || now.inode != identity_.inode)
      throw store_lost("store " + url_ + ": the store file " + path_ +
                       " was replaced by another file while the head ran");
    if (now.size == 0)
      throw store_lost("store " + url_ + ": the store file " + path_ +
                       " was truncated to 0 bytes while the head ran");
  }

  std::string path_;
  std::string url_;
  std::mutex mutex_;
  std::unique_ptr<connection> connection_;
  file_identity identity_;
};

}  // namespace

std::unique_ptr<sql_database> open_sqlite_database(const std::string& path,
                                                   const std::string& url) {
  return std::make_unique<sqlite_database>(path, url);
}

}  // namespace troupe::store
