#include "cluster/store/migrations.hpp"

#include <chrono>

#include "cluster/store/artifacts_table.hpp"
#include "cluster/store/attempts_table.hpp"
#include "cluster/store/jobs_table.hpp"
#include "cluster/store/metrics_table.hpp"
#include "cluster/store/models_tables.hpp"
#include "cluster/store/nodes_table.hpp"
#include "cluster/store/store.hpp"
#include "cluster/store/transitions_table.hpp"

namespace troupe::store {
namespace {

std::vector<std::string> joined(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> statements;
  for (const auto& part : parts) statements.insert(statements.end(), part.begin(), part.end());
  return statements;
}

}  // namespace

const std::vector<migration>& migrations() {
  static const std::vector<migration> all = {
      {1, "membership: one row per node the head has seen", nodes_table::create()},
      {2, "jobs: jobs, their attempts and their state transitions",
       joined({jobs_table::create(), attempts_table::create(), transitions_table::create()})},
      {3, "artifacts: every stored version of every artifact", artifacts_table::create()},
      {4, "models: the model registry's models, versions and stage changes",
       models_tables::create()},
      {5, "metrics: the step and epoch reports of train jobs' ranks", metrics_table::create()},
      {6, "models: a version's signature and source (trained or imported)",
       models_tables::add_signature()},
  };
  return all;
}

int latest_schema_version() { return migrations().back().version; }

int apply_migrations(sql_session& session) {
  session.execute(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY,"
      " applied_at_ms BIGINT NOT NULL)");
  const auto current = static_cast<int>(
      session.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").at(0).integer(0));
  if (current > latest_schema_version())
    throw store_error("schema version " + std::to_string(current) +
                      " is newer than this build of Troupe knows (" +
                      std::to_string(latest_schema_version()) + "); run a newer Troupe");
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (const auto& m : migrations()) {
    if (m.version <= current) continue;
    for (const auto& statement : m.statements) session.execute(statement);
    session.execute("INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
                    {int64_t{m.version}, now_ms});
  }
  return latest_schema_version();
}

}  // namespace troupe::store
