#include "cluster/store/models_tables.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

namespace troupe::store::models_tables {
namespace {

constexpr const char* version_columns =
    "SELECT name, version, tenant, job_id, artifact_digest, final_metrics_json,"
    " best_metrics_json, params_json, dataset_fingerprint, stage, created_at_ms,"
    " input_features, output_kind, classes_json, source"
    " FROM model_versions";

// What makes a registration idempotent: its train job, or (imported) its name and artifact.
std::string registration_key(const model_version_record& v) {
  return v.source == "imported" ? "import:" + v.name + ":" + v.artifact_digest : "job:" + v.job_id;
}

std::vector<std::string> classes_of(const std::string& json) {
  return nlohmann::json::parse(json).get<std::vector<std::string>>();
}

std::vector<model_version_record> versions_where(sql_session& session, const std::string& where,
                                                 const sql_params& params) {
  std::vector<model_version_record> versions;
  for (const auto& row : session.query(std::string(version_columns) + " WHERE " + where, params)) {
    model_version_record v;
    v.name = row.text(0);
    v.version = static_cast<uint32_t>(row.integer(1));
    v.tenant = row.text(2);
    v.job_id = row.text(3);
    v.artifact_digest = row.text(4);
    v.final_metrics_json = row.text(5);
    v.best_metrics_json = row.text(6);
    v.params_json = row.text(7);
    v.dataset_fingerprint = row.text(8);
    v.stage = row.text(9);
    v.created_at_ms = row.integer(10);
    v.input_features = static_cast<uint32_t>(row.integer(11));
    v.output_kind = row.text(12);
    v.classes = classes_of(row.text(13));
    v.source = row.text(14);
    versions.push_back(std::move(v));
  }
  // Sorted here, not by ORDER BY: PostgreSQL orders text by the database's collation.
  std::sort(versions.begin(), versions.end(),
            [](const model_version_record& a, const model_version_record& b) {
              return std::tie(a.name, a.version) < std::tie(b.name, b.version);
            });
  return versions;
}

// Holds the model's row locked until the transaction ends (PostgreSQL: a row lock; SQLite holds
// the whole database's write lock already). A statement both backends accept, unlike FOR UPDATE.
void lock_model(sql_session& session, const std::string& name) {
  session.execute("UPDATE models SET latest_version = latest_version WHERE name = $1", {name});
}

}  // namespace

std::vector<std::string> create() {
  return {
      "CREATE TABLE models ("
      " name TEXT PRIMARY KEY,"
      " tenant TEXT NOT NULL,"
      " latest_version BIGINT NOT NULL,"  // the highest version ever given: never reused
      " created_at_ms BIGINT NOT NULL)",
      "CREATE TABLE model_versions ("
      " name TEXT NOT NULL,"
      " version BIGINT NOT NULL,"
      " tenant TEXT NOT NULL,"
      " job_id TEXT NOT NULL UNIQUE,"  // one version per train job: registration is idempotent
      " artifact_digest TEXT NOT NULL,"
      " final_metrics_json TEXT NOT NULL,"
      " best_metrics_json TEXT NOT NULL,"
      " params_json TEXT NOT NULL,"
      " dataset_fingerprint TEXT NOT NULL,"
      " stage TEXT NOT NULL,"
      " created_at_ms BIGINT NOT NULL,"
      " PRIMARY KEY (name, version))",
      "CREATE TABLE model_stage_changes ("
      " name TEXT NOT NULL,"
      " seq BIGINT NOT NULL,"
      " version BIGINT NOT NULL,"
      " from_stage TEXT NOT NULL,"
      " to_stage TEXT NOT NULL,"
      " changed_by TEXT NOT NULL,"
      " at_ms BIGINT NOT NULL,"
      " PRIMARY KEY (name, seq))"};
}

std::vector<std::string> add_signature() {
  // The table is made anew: job_id was UNIQUE NOT NULL, and an imported version has no job.
  return {
      "CREATE TABLE model_versions_6 ("
      " name TEXT NOT NULL,"
      " version BIGINT NOT NULL,"
      " tenant TEXT NOT NULL,"
      " job_id TEXT NOT NULL,"
      " registration_key TEXT NOT NULL UNIQUE,"  // registration_key() above
      " artifact_digest TEXT NOT NULL,"
      " final_metrics_json TEXT NOT NULL,"
      " best_metrics_json TEXT NOT NULL,"
      " params_json TEXT NOT NULL,"
      " dataset_fingerprint TEXT NOT NULL,"
      " stage TEXT NOT NULL,"
      " created_at_ms BIGINT NOT NULL,"
      " input_features BIGINT NOT NULL,"
      " output_kind TEXT NOT NULL,"
      " classes_json TEXT NOT NULL,"
      " source TEXT NOT NULL,"
      " PRIMARY KEY (name, version))",
      // Versions registered before carry no signature: no declared features, logits.
      "INSERT INTO model_versions_6 SELECT name, version, tenant, job_id, 'job:' || job_id,"
      " artifact_digest, final_metrics_json, best_metrics_json, params_json,"
      " dataset_fingerprint, stage, created_at_ms, 0, 'logits', '[]', 'trained'"
      " FROM model_versions",
      "DROP TABLE model_versions", "ALTER TABLE model_versions_6 RENAME TO model_versions"};
}

model_registration register_version(sql_session& session, const model_version_record& v) {
  const auto key = registration_key(v);
  auto by_job = versions_where(session, "registration_key = $1", {key});
  if (!by_job.empty()) return {model_registration::outcome::existing, by_job.front()};
  session.execute(
      "INSERT INTO models (name, tenant, latest_version, created_at_ms) VALUES ($1, $2, 0, $3)"
      " ON CONFLICT (name) DO NOTHING",
      {v.name, v.tenant, v.created_at_ms});
  lock_model(session, v.name);
  // A registration of the same job may have committed while this one waited for the lock.
  by_job = versions_where(session, "registration_key = $1", {key});
  if (!by_job.empty()) return {model_registration::outcome::existing, by_job.front()};
  const auto model =
      session.query("SELECT tenant, latest_version FROM models WHERE name = $1", {v.name}).at(0);
  auto stored = v;
  if (model.text(0) != v.tenant) {
    stored.tenant = model.text(0);
    return {model_registration::outcome::other_tenant, stored};
  }
  stored.version = static_cast<uint32_t>(model.integer(1) + 1);
  stored.stage = "none";
  session.execute("UPDATE models SET latest_version = $2 WHERE name = $1",
                  {v.name, int64_t{stored.version}});
  session.execute(
      "INSERT INTO model_versions (name, version, tenant, job_id, registration_key,"
      " artifact_digest, final_metrics_json, best_metrics_json, params_json,"
      " dataset_fingerprint, stage, created_at_ms, input_features, output_kind, classes_json,"
      " source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
      {stored.name, int64_t{stored.version}, stored.tenant, stored.job_id, key,
       stored.artifact_digest, stored.final_metrics_json, stored.best_metrics_json,
       stored.params_json, stored.dataset_fingerprint, stored.stage, stored.created_at_ms,
       int64_t{stored.input_features}, stored.output_kind, nlohmann::json(stored.classes).dump(),
       stored.source});
  return {model_registration::outcome::registered, stored};
}

std::vector<model_version_record> load_versions(sql_session& session, const std::string& name) {
  return versions_where(session, "(name = $1 OR $1 = '')", {name});
}

std::vector<model_stage_change> load_stage_changes(sql_session& session, const std::string& name) {
  std::vector<model_stage_change> changes;
  for (const auto& row :
       session.query("SELECT name, seq, version, from_stage, to_stage, changed_by, at_ms"
                     " FROM model_stage_changes WHERE (name = $1 OR $1 = '')",
                     {name})) {
    model_stage_change c;
    c.name = row.text(0);
    c.seq = static_cast<uint64_t>(row.integer(1));
    c.version = static_cast<uint32_t>(row.integer(2));
    c.from_stage = row.text(3);
    c.to_stage = row.text(4);
    c.changed_by = row.text(5);
    c.at_ms = row.integer(6);
    changes.push_back(std::move(c));
  }
  std::sort(changes.begin(), changes.end(),
            [](const model_stage_change& a, const model_stage_change& b) {
              return std::tie(a.name, a.seq) < std::tie(b.name, b.seq);
            });
  return changes;
}

std::vector<model_stage_change> change_stages(sql_session& session, const std::string& name,
                                              const models_store::stage_plan& plan) {
  lock_model(session, name);
  auto versions = load_versions(session, name);
  auto changes = plan(versions);
  auto seq = static_cast<uint64_t>(
      session.query("SELECT COALESCE(MAX(seq), 0) FROM model_stage_changes WHERE name = $1", {name})
          .at(0)
          .integer(0));
  for (auto& c : changes) {
    auto v = std::find_if(versions.begin(), versions.end(),
                          [&](const model_version_record& r) { return r.version == c.version; });
    if (v == versions.end())
      throw store_error("model " + name + " has no version " + std::to_string(c.version));
    c.name = name;
    c.seq = ++seq;
    c.from_stage = std::exchange(v->stage, c.to_stage);
    session.execute("UPDATE model_versions SET stage = $3 WHERE name = $1 AND version = $2",
                    {name, int64_t{c.version}, c.to_stage});
    session.execute(
        "INSERT INTO model_stage_changes (name, seq, version, from_stage, to_stage, changed_by,"
        " at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {name, static_cast<int64_t>(c.seq), int64_t{c.version}, c.from_stage, c.to_stage,
         c.changed_by, c.at_ms});
  }
  return changes;
}

}  // namespace troupe::store::models_tables
