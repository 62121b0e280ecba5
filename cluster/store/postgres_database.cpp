#include "cluster/store/postgres_database.hpp"

#include <sys/socket.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/store/migrations.hpp"
#include "cluster/store/store.hpp"
#include "messages/safe_text.hpp"

namespace troupe::store {
namespace {

// Type OIDs of the columns read as numbers (PostgreSQL's pg_type.h).
constexpr pqxx::oid bool_oid = 16, int8_oid = 20, int2_oid = 21, int4_oid = 23, float8_oid = 701;
// Serializes migrations between processes opening the same database ("troupe" in ASCII).
constexpr long long migration_lock_key = 0x74726f757065;

std::string with_connect_timeout(const std::string& url) {
  if (url.find("connect_timeout=") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=" + std::to_string(connect_timeout.count());
}

// A library message fit for ours: on one line, and without the password that libpq may
// quote back from the URL.
std::string cleaned(std::string message, const std::string& url) {
  for (const auto& password : msg::passwords_in(url)) {
    for (auto pos = message.find(password); pos != std::string::npos;
         pos = message.find(password, pos + 3))
      message.replace(pos, password.size(), "***");
  }
  std::string one_line;
  for (char c : message) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (one_line.empty() || one_line.back() == ' ')) continue;
    one_line += space ? ' ' : c;
  }
  while (!one_line.empty() && one_line.back() == ' ') one_line.pop_back();
  return one_line;
}

// Cuts the connection of a call whose server stops answering (frozen, or cut off without a
// reset): statement_timeout runs on the server and libpq has no timeout of its own, so such
// a call would otherwise hold the store's thread forever. Shutting the socket down makes the
// blocked call fail as a dropped connection.
class watchdog {
 public:
  using clock = std::chrono::steady_clock;

  // While it lives, the socket is shut down once answer_timeout has passed.
  class watch {
   public:
    watch(watchdog& dog, int socket) : dog_(dog) { dog_.arm(socket); }
    ~watch() { dog_.disarm(); }
    watch(const watch&) = delete;
    watch& operator=(const watch&) = delete;

   private:
    watchdog& dog_;
  };

  watchdog() : thread_([this] { run(); }) {}
  ~watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

 private:
  void arm(int socket) {
    std::lock_guard<std::mutex> lock(mutex_);
    socket_ = socket;
    deadline_ = clock::now() + answer_timeout;
    changed_.notify_all();
  }
  void disarm() {
    std::lock_guard<std::mutex> lock(mutex_);
    socket_ = -1;
    changed_.notify_all();
  }
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (socket_ < 0) {
        changed_.wait(lock);
      } else if (clock::now() >= deadline_) {
        ::shutdown(socket_, SHUT_RDWR);
        socket_ = -1;
      } else {
        changed_.wait_until(lock, deadline_);
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  int socket_ = -1;  // watched while >= 0
  clock::time_point deadline_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// Connecting is bounded by connect_timeout; what follows, by the watchdog.
std::unique_ptr<pqxx::connection> connect(const std::string& conninfo, watchdog& dog) {
  auto connection = std::make_unique<pqxx::connection>(conninfo);
  watchdog::watch watched(dog, connection->sock());
  // Keeps NOTICEs ("relation already exists, skipping") out of the daemon's stderr, and
  // bounds every statement (and lock wait), so a stuck server fails a call instead of holding
  // the store's thread.
  pqxx::nontransaction session(*connection);
  session.exec0("SET client_min_messages TO WARNING");
  session.exec0("SET statement_timeout TO '" + std::to_string(statement_timeout.count()) + "s'");
  // Doubles as text in their shortest form that reads back exactly (PostgreSQL 12 and later).
  session.exec0("SET extra_float_digits TO 1");
  return connection;
}

// Doubles travel as text, written and read exactly (to_chars' shortest round-trip form).
std::string text_of(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::string(text, end);
}

double double_of(const char* text) {
  double value = 0;
  const auto end = text + std::strlen(text);
  if (std::from_chars(text, end, value).ptr != end)
    throw std::runtime_error(std::string("not a double: ") + text);
  return value;
}

sql_value field_value(const pqxx::field& field) {
  if (field.is_null()) return nullptr;
  switch (field.type()) {
    case bool_oid: return int64_t{field.as<bool>() ? 1 : 0};
    case int2_oid:
    case int4_oid:
    case int8_oid: return field.as<int64_t>();
    case float8_oid: return double_of(field.c_str());
    default: return field.as<std::string>();
  }
}

class postgres_session final : public sql_session {
 public:
  explicit postgres_session(pqxx::work& tx) : tx_(tx) {}

  void execute(const std::string& sql, const sql_params& params) override { run(sql, params); }

  std::vector<sql_row> query(const std::string& sql, const sql_params& params) override {
    std::vector<sql_row> rows;
    for (const auto& result_row : run(sql, params)) {
      sql_row row;
      for (const auto& field : result_row) row.values.push_back(field_value(field));
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  // Parameters travel as text; a null pointer is SQL NULL.
  pqxx::result run(const std::string& sql, const sql_params& params) {
    std::vector<std::string> numbers;
    numbers.reserve(params.size());  // no reallocation: `texts` points into it
    std::vector<const char*> texts;
    texts.reserve(params.size());
    for (const auto& value : params) {
      if (const auto* number = std::get_if<int64_t>(&value)) {
        numbers.push_back(std::to_string(*number));
        texts.push_back(numbers.back().c_str());
      } else if (const auto* real = std::get_if<double>(&value)) {
        numbers.push_back(text_of(*real));
        texts.push_back(numbers.back().c_str());
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        texts.push_back(text->c_str());
      } else {
        texts.push_back(nullptr);
      }
    }
    return tx_.exec_params(sql, pqxx::prepare::make_dynamic_params(texts));
  }

  pqxx::work& tx_;
};

class postgres_database final : public sql_database {
 public:
  explicit postgres_database(const std::string& url)
      : conninfo_(with_connect_timeout(url)), shown_(msg::without_passwords(url)) {
    try {
      connection_ = connect(conninfo_, watchdog_);
      watchdog::watch watched(watchdog_, connection_->sock());
      pqxx::work tx(*connection_);
      tx.exec1("SELECT pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")");
      postgres_session session(tx);
      apply_migrations(session);
      tx.commit();
    } catch (const std::exception& e) {
      throw store_error("cannot open store " + shown_ + ": " + cleaned(e.what(), conninfo_));
    }
  }

  // Connects first when there is no live connection. A dropped connection (or a commit
  // whose outcome is unknown) gets one more try on a new connection: safe because every
  // body is a batch of upserts and deletes, or a read.
  void transaction(const std::function<void(sql_session&)>& body) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int attempt = 1;; ++attempt) {
      try {
        if (!connection_ || !connection_->is_open()) connection_ = connect(conninfo_, watchdog_);
        watchdog::watch watched(watchdog_, connection_->sock());
        pqxx::work tx(*connection_);
        postgres_session session(tx);
        body(session);
        tx.commit();
        return;
      } catch (const std::exception& e) {
        const bool dropped = dynamic_cast<const pqxx::broken_connection*>(&e) ||
                             dynamic_cast<const pqxx::in_doubt_error*>(&e) ||
                             (connection_ && !connection_->is_open());
        if (dropped) connection_.reset();
        if (!dropped || attempt == 2)
          throw store_error("store " + shown_ + ": " + cleaned(e.what(), conninfo_));
      }
    }
  }

  // A database on a server cannot vanish under an open connection the way a file can: a
  // dropped database or server fails the next call instead.
  void check_intact() override {}

  const std::string& name() const override { return shown_; }

 private:
  std::string conninfo_;
  std::string shown_;
  std::mutex mutex_;
  watchdog watchdog_;
  std::unique_ptr<pqxx::connection> connection_;
};

}  // namespace

std::unique_ptr<sql_database> open_postgres_database(const std::string& url) {
  return std::make_unique<postgres_database>(url);
}

}  // namespace troupe::store
