#include "cluster/store/postgres_store.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "cluster/store/migrations.hpp"
#include "messages/safe_text.hpp"

namespace troupe::store {
namespace {

constexpr const char* default_connect_timeout = "connect_timeout=10";
// Serializes migrations between processes opening the same database ("troupe" in ASCII).
constexpr long long migration_lock_key = 0x74726f757065;

std::string with_connect_timeout(const std::string& url) {
  if (url.find("connect_timeout=") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + default_connect_timeout;
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

std::unique_ptr<pqxx::connection> connect(const std::string& conninfo) {
  auto connection = std::make_unique<pqxx::connection>(conninfo);
  // Keeps NOTICEs ("relation already exists, skipping") out of the daemon's stderr, and
  // bounds every statement (and lock wait), so a stuck server fails a call instead of holding
  // the store's thread.
  pqxx::nontransaction session(*connection);
  session.exec0("SET client_min_messages TO WARNING");
  session.exec0("SET statement_timeout TO '10s'");
  return connection;
}

class postgres_session final : public sql_session {
 public:
  explicit postgres_session(pqxx::work& tx) : tx_(tx) {}
  void execute(const std::string& sql) override { tx_.exec0(sql); }
  long long query_integer(const std::string& sql) override {
    return tx_.exec1(sql)[0].as<long long>();
  }

 private:
  pqxx::work& tx_;
};

class postgres_store final : public membership_store {
 public:
  explicit postgres_store(const std::string& url)
      : conninfo_(with_connect_timeout(url)), shown_(msg::without_passwords(url)) {
    try {
      connection_ = connect(conninfo_);
      pqxx::work tx(*connection_);
      tx.exec1("SELECT pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")");
      postgres_session session(tx);
      apply_migrations(session);
      tx.commit();
    } catch (const std::exception& e) {
      throw store_error("cannot open store " + shown_ + ": " + cleaned(e.what(), conninfo_));
    }
  }

  void put_node(const node_record& r) override {
    run("cannot write node " + r.node_id, [&](pqxx::work& tx) {
      tx.exec_params0(sql::put_node, r.node_id, r.name, static_cast<int64_t>(r.incarnation),
                      r.state, r.draining, r.addresses_json, r.resources_json, r.labels_json,
                      r.version, r.registered_at_ms, r.state_changed_at_ms);
    });
  }

  std::vector<node_record> load_nodes() override {
    std::vector<node_record> nodes;
    run("cannot read nodes", [&](pqxx::work& tx) {
      nodes.clear();  // a retry starts over
      for (const auto& row : tx.exec(sql::load_nodes)) {
        node_record r;
        r.node_id = row[0].as<std::string>();
        r.name = row[1].as<std::string>();
        r.incarnation = static_cast<uint64_t>(row[2].as<int64_t>());
        r.state = row[3].as<std::string>();
        r.draining = row[4].as<bool>();
        r.addresses_json = row[5].as<std::string>();
        r.resources_json = row[6].as<std::string>();
        r.labels_json = row[7].as<std::string>();
        r.version = row[8].as<std::string>();
        r.registered_at_ms = row[9].as<int64_t>();
        r.state_changed_at_ms = row[10].as<int64_t>();
        nodes.push_back(std::move(r));
      }
    });
    return nodes;
  }

  void remove_node(const std::string& node_id) override {
    run("cannot remove node " + node_id,
        [&](pqxx::work& tx) { tx.exec_params0(sql::remove_node, node_id); });
  }

 private:
  // Runs `body` in one transaction, connecting first when there is no live connection.
  // A dropped connection (or a commit whose outcome is unknown) gets one more try on a new
  // connection: safe because every call is idempotent.
  void run(const std::string& what, const std::function<void(pqxx::work&)>& body) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int attempt = 1;; ++attempt) {
      try {
        if (!connection_ || !connection_->is_open()) connection_ = connect(conninfo_);
        pqxx::work tx(*connection_);
        body(tx);
        tx.commit();
        return;
      } catch (const std::exception& e) {
        const bool dropped = dynamic_cast<const pqxx::broken_connection*>(&e) ||
                             dynamic_cast<const pqxx::in_doubt_error*>(&e) ||
                             (connection_ && !connection_->is_open());
        if (dropped) connection_.reset();
        if (!dropped || attempt == 2)
          throw store_error("store " + shown_ + ": " + what + ": " + cleaned(e.what(), conninfo_));
      }
    }
  }

  std::string conninfo_;
  std::string shown_;
  std::mutex mutex_;
  std::unique_ptr<pqxx::connection> connection_;
};

}  // namespace

std::unique_ptr<membership_store> open_postgres_store(const std::string& url) {
  return std::make_unique<postgres_store>(url);
}

}  // namespace troupe::store
