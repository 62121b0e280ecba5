#include "cluster/store/store.hpp"

#include "cluster/store/nodes_table.hpp"
#include "cluster/store/postgres_database.hpp"
#include "cluster/store/sql.hpp"
#include "cluster/store/sqlite_database.hpp"
#include "messages/safe_text.hpp"

namespace troupe::store {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The cluster's store over either backend: every area's tables, written once.
class sql_store final : public cluster_store, public membership_store {
 public:
  explicit sql_store(std::unique_ptr<sql_database> db) : db_(std::move(db)) {}

  membership_store& membership() override { return *this; }

  void apply(const std::vector<store_write>& writes) override {
    if (writes.empty()) {
      db_->check_intact();
      return;
    }
    run("cannot write " + describe(writes), [&](sql_session& session) {
      for (const auto& write : writes) {
        if (const auto* node = std::get_if<node_record>(&write))
          nodes_table::put(session, *node);
        else
          nodes_table::remove(session, std::get<node_removal>(write).node_id);
      }
    });
  }

  std::vector<node_record> load_nodes() override {
    std::vector<node_record> nodes;
    run("cannot read nodes", [&](sql_session& session) { nodes = nodes_table::load(session); });
    return nodes;
  }

  const std::string& name() const override { return db_->name(); }

 private:
  // What a batch changes, for messages: its first row and how many more.
  static std::string describe(const std::vector<store_write>& writes) {
    auto text = row_of(writes.front());
    if (writes.size() > 1) text += " and " + std::to_string(writes.size() - 1) + " more";
    return text;
  }

  // Runs `body` in one transaction; a failure names what was being done.
  void run(const std::string& what, const std::function<void(sql_session&)>& body) {
    try {
      db_->transaction(body);
    } catch (const store_lost&) {
      throw;
    } catch (const store_error& e) {
      throw store_error(what + ": " + e.what());
    }
  }

  std::unique_ptr<sql_database> db_;
};

}  // namespace

int64_t sql_row::integer(size_t column) const {
  if (const auto* value = std::get_if<int64_t>(&values.at(column))) return *value;
  throw std::runtime_error("column " + std::to_string(column) + " is not an integer");
}

const std::string& sql_row::text(size_t column) const {
  if (const auto* value = std::get_if<std::string>(&values.at(column))) return *value;
  throw std::runtime_error("column " + std::to_string(column) + " is not text");
}

std::string row_of(const store_write& write) {
  if (const auto* node = std::get_if<node_record>(&write)) return "nodes/" + node->node_id;
  return "nodes/" + std::get<node_removal>(write).node_id;
}

membership_store::~membership_store() = default;
cluster_store::~cluster_store() = default;

std::unique_ptr<cluster_store> open_store(const std::string& url) {
  if (starts_with(url, "sqlite:")) {
    // sqlite:///abs/file.db, sqlite:/abs/file.db, sqlite:rel/file.db, sqlite://rel/file.db
    // (the daemon writes "sqlite://" + data dir, which may be relative). The rest is a file
    // path, taken literally.
    auto path = url.substr(std::string("sqlite:").size());
    if (starts_with(path, "//")) path.erase(0, 2);
    if (path.empty()) throw store_error("cannot open store " + url + ": the URL names no file");
    return std::make_unique<sql_store>(open_sqlite_database(path, url));
  }
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://"))
    return std::make_unique<sql_store>(open_postgres_database(url));
  throw store_error("cannot open store " + msg::without_passwords(url) +
                    ": unknown scheme (expected sqlite:///abs/path.db, sqlite:relative/path.db, "
                    "postgresql://... or postgres://...)");
}

}  // namespace troupe::store
