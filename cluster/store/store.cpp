#include "cluster/store/store.hpp"

#include "cluster/store/artifacts_table.hpp"
#include "cluster/store/attempts_table.hpp"
#include "cluster/store/jobs_table.hpp"
#include "cluster/store/metrics_table.hpp"
#include "cluster/store/models_tables.hpp"
#include "cluster/store/nodes_table.hpp"
#include "cluster/store/postgres_database.hpp"
#include "cluster/store/sql.hpp"
#include "cluster/store/sqlite_database.hpp"
#include "cluster/store/transitions_table.hpp"
#include "messages/safe_text.hpp"

namespace troupe::store {
namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Writes each kind of row to its table.
struct table_writer {
  sql_session& session;
  void operator()(const node_record& r) const { nodes_table::put(session, r); }
  void operator()(const node_removal& r) const { nodes_table::remove(session, r.node_id); }
  void operator()(const job_record& r) const { jobs_table::put(session, r); }
  void operator()(const attempt_record& r) const { attempts_table::put(session, r); }
  void operator()(const job_transition& r) const { transitions_table::put(session, r); }
  void operator()(const artifact_record& r) const { artifacts_table::put(session, r); }
  void operator()(const artifact_removal& r) const { artifacts_table::remove(session, r); }
};

struct row_namer {
  std::string operator()(const node_record& r) const { return "nodes/" + r.node_id; }
  std::string operator()(const node_removal& r) const { return "nodes/" + r.node_id; }
  std::string operator()(const job_record& r) const { return "jobs/" + r.job_id; }
  std::string operator()(const attempt_record& r) const { return "attempts/" + r.attempt_id; }
  std::string operator()(const job_transition& r) const {
    return "transitions/" + r.job_id + "/" + std::to_string(r.seq);
  }
  std::string operator()(const artifact_record& r) const {
    return "artifacts/" + r.tenant + "/" + r.name + "/" + r.digest;
  }
  std::string operator()(const artifact_removal& r) const {
    return "artifacts/" + r.tenant + "/" + r.name + "/" + r.digest;
  }
};

// The cluster's store over either backend: every area's tables, written once.
class sql_store final : public cluster_store,
                        public membership_store,
                        public jobs_store,
                        public artifacts_store,
                        public models_store,
                        public metrics_store {
 public:
  explicit sql_store(std::unique_ptr<sql_database> db) : db_(std::move(db)) {}

  membership_store& membership() override { return *this; }
  jobs_store& jobs() override { return *this; }
  artifacts_store& artifacts() override { return *this; }
  models_store& models() override { return *this; }
  metrics_store& metrics() override { return *this; }

  void apply(const std::vector<store_write>& writes) override {
    if (writes.empty()) {
      db_->check_intact();
      return;
    }
    run("cannot write " + describe(writes), [&](sql_session& session) {
      for (const auto& write : writes) std::visit(table_writer{session}, write);
    });
  }

  std::vector<node_record> load_nodes() override { return load("nodes", nodes_table::load); }
  std::vector<job_record> load_jobs() override { return load("jobs", jobs_table::load); }
  std::vector<attempt_record> load_attempts() override {
    return load("attempts", attempts_table::load);
  }
  std::vector<job_transition> load_transitions() override {
    return load("transitions", transitions_table::load);
  }

  std::vector<artifact_record> load_artifacts() override {
    return load("artifacts", artifacts_table::load);
  }

  model_registration register_version(const model_version_record& v) override {
    model_registration registration;
    run("cannot register a version of model " + v.name,
        [&](sql_session& session) { registration = models_tables::register_version(session, v); });
    return registration;
  }
  std::vector<model_version_record> load_versions(const std::string& model) override {
    std::vector<model_version_record> versions;
    run("cannot read model_versions",
        [&](sql_session& session) { versions = models_tables::load_versions(session, model); });
    return versions;
  }
  std::vector<model_stage_change> load_stage_changes(const std::string& model) override {
    std::vector<model_stage_change> changes;
    run("cannot read model_stage_changes",
        [&](sql_session& session) { changes = models_tables::load_stage_changes(session, model); });
    return changes;
  }
  std::vector<model_stage_change> change_stages(const std::string& model,
                                                const stage_plan& plan) override {
    std::vector<model_stage_change> changes;
    run("cannot change the stages of model " + model, [&](sql_session& session) {
      changes = models_tables::change_stages(session, model, plan);
    });
    return changes;
  }

  void append_metrics(const std::vector<metric_record>& rows, uint64_t keep_steps) override {
    if (rows.empty()) return;
    run("cannot write job_metrics of job " + rows.front().job_id,
        [&](sql_session& session) { metrics_table::append(session, rows, keep_steps); });
  }
  std::vector<metric_record> load_metrics(const std::string& job_id, uint64_t after,
                                          uint32_t limit) override {
    std::vector<metric_record> rows;
    run("cannot read job_metrics",
        [&](sql_session& session) { rows = metrics_table::load(session, job_id, after, limit); });
    return rows;
  }
  uint64_t last_metric_seq(const std::string& job_id) override {
    uint64_t seq = 0;
    run("cannot read job_metrics",
        [&](sql_session& session) { seq = metrics_table::last_seq(session, job_id); });
    return seq;
  }

  const std::string& name() const override { return db_->name(); }

 private:
  // What a batch changes, for messages: its first row and how many more.
  static std::string describe(const std::vector<store_write>& writes) {
    auto text = row_of(writes.front());
    if (writes.size() > 1) text += " and " + std::to_string(writes.size() - 1) + " more";
    return text;
  }

  // Every row of one table, read in one transaction.
  template <class Row>
  std::vector<Row> load(const std::string& table, std::vector<Row> (*read)(sql_session&)) {
    std::vector<Row> rows;
    run("cannot read " + table, [&](sql_session& session) { rows = read(session); });
    return rows;
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

double sql_row::real(size_t column) const {
  if (const auto* value = std::get_if<double>(&values.at(column))) return *value;
  throw std::runtime_error("column " + std::to_string(column) + " is not a double");
}

std::optional<int64_t> sql_row::nullable_integer(size_t column) const {
  if (std::holds_alternative<std::nullptr_t>(values.at(column))) return std::nullopt;
  return integer(column);
}

std::optional<double> sql_row::nullable_real(size_t column) const {
  if (std::holds_alternative<std::nullptr_t>(values.at(column))) return std::nullopt;
  return real(column);
}

std::string row_of(const store_write& write) { return std::visit(row_namer{}, write); }

membership_store::~membership_store() = default;
jobs_store::~jobs_store() = default;
artifacts_store::~artifacts_store() = default;
models_store::~models_store() = default;
metrics_store::~metrics_store() = default;
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
