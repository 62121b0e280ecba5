#include "cluster/store/artifacts_table.hpp"

namespace troupe::store::artifacts_table {

std::vector<std::string> create() {
  return {
      "CREATE TABLE artifacts ("
      " tenant TEXT NOT NULL,"
      " name TEXT NOT NULL,"
      " digest TEXT NOT NULL,"
      " kind TEXT NOT NULL,"
      " size BIGINT NOT NULL,"  // a uint64_t stored as its int64_t bit pattern
      " created_at_ms BIGINT NOT NULL,"
      " job_id TEXT NOT NULL,"
      " PRIMARY KEY (tenant, name, digest))"};
}

void put(sql_session& session, const artifact_record& r) {
  session.execute(
      "INSERT INTO artifacts (tenant, name, digest, kind, size, created_at_ms, job_id)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7)"
      " ON CONFLICT (tenant, name, digest) DO UPDATE SET kind = excluded.kind,"
      " size = excluded.size, created_at_ms = excluded.created_at_ms, job_id = excluded.job_id",
      {r.tenant, r.name, r.digest, r.kind, static_cast<int64_t>(r.size), r.created_at_ms,
       r.job_id});
}

void remove(sql_session& session, const artifact_removal& r) {
  session.execute("DELETE FROM artifacts WHERE tenant = $1 AND name = $2 AND digest = $3",
                  {r.tenant, r.name, r.digest});
}

std::vector<artifact_record> load(sql_session& session) {
  std::vector<artifact_record> artifacts;
  for (const auto& row : session.query(
           "SELECT tenant, name, digest, kind, size, created_at_ms, job_id FROM artifacts")) {
    artifact_record r;
    r.tenant = row.text(0);
    r.name = row.text(1);
    r.digest = row.text(2);
    r.kind = row.text(3);
    r.size = static_cast<uint64_t>(row.integer(4));
    r.created_at_ms = row.integer(5);
    r.job_id = row.text(6);
    artifacts.push_back(std::move(r));
  }
  return artifacts;
}

}  // namespace troupe::store::artifacts_table
