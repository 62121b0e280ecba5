#include "cluster/store/jobs_table.hpp"

namespace troupe::store::jobs_table {

std::vector<std::string> create() {
  return {
      "CREATE TABLE jobs ("
      " job_id TEXT PRIMARY KEY,"
      " tenant TEXT NOT NULL,"
      " name TEXT NOT NULL,"
      " kind TEXT NOT NULL,"
      " priority INTEGER NOT NULL,"
      " client_request_id TEXT NOT NULL,"
      " spec_json TEXT NOT NULL,"
      " state TEXT NOT NULL,"
      " reason TEXT NOT NULL,"
      " attempts BIGINT NOT NULL,"
      " submitted_at_ms BIGINT NOT NULL,"
      " started_at_ms BIGINT NOT NULL,"
      " finished_at_ms BIGINT NOT NULL,"
      " exit_code INTEGER)",  // NULL: none yet
      // The last guard of idempotent submits: the head checks in memory first.
      "CREATE UNIQUE INDEX jobs_by_client_request ON jobs (tenant, client_request_id)"
      " WHERE client_request_id <> ''"};
}

void put(sql_session& session, const job_record& r) {
  session.execute(
      "INSERT INTO jobs (job_id, tenant, name, kind, priority, client_request_id, spec_json,"
      " state, reason, attempts, submitted_at_ms, started_at_ms, finished_at_ms, exit_code)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
      " ON CONFLICT (job_id) DO UPDATE SET tenant = excluded.tenant, name = excluded.name,"
      " kind = excluded.kind, priority = excluded.priority,"
      " client_request_id = excluded.client_request_id, spec_json = excluded.spec_json,"
      " state = excluded.state, reason = excluded.reason, attempts = excluded.attempts,"
      " submitted_at_ms = excluded.submitted_at_ms, started_at_ms = excluded.started_at_ms,"
      " finished_at_ms = excluded.finished_at_ms, exit_code = excluded.exit_code",
      {r.job_id, r.tenant, r.name, r.kind, int64_t{r.priority}, r.client_request_id, r.spec_json,
       r.state, r.reason, int64_t{r.attempts}, r.submitted_at_ms, r.started_at_ms, r.finished_at_ms,
       nullable(r.exit_code)});
}

std::vector<job_record> load(sql_session& session) {
  std::vector<job_record> jobs;
  for (const auto& row : session.query(
           "SELECT job_id, tenant, name, kind, priority, client_request_id, spec_json, state,"
           " reason, attempts, submitted_at_ms, started_at_ms, finished_at_ms, exit_code"
           " FROM jobs")) {
    job_record r;
    r.job_id = row.text(0);
    r.tenant = row.text(1);
    r.name = row.text(2);
    r.kind = row.text(3);
    r.priority = static_cast<int32_t>(row.integer(4));
    r.client_request_id = row.text(5);
    r.spec_json = row.text(6);
    r.state = row.text(7);
    r.reason = row.text(8);
    r.attempts = static_cast<uint32_t>(row.integer(9));
    r.submitted_at_ms = row.integer(10);
    r.started_at_ms = row.integer(11);
    r.finished_at_ms = row.integer(12);
    if (const auto code = row.nullable_integer(13)) r.exit_code = static_cast<int32_t>(*code);
    jobs.push_back(std::move(r));
  }
  return jobs;
}

std::map<std::string, uint64_t> count_by_state(sql_session& session) {
  std::map<std::string, uint64_t> counts;
  for (const auto& row : session.query("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
    counts[row.text(0)] = static_cast<uint64_t>(row.integer(1));
  return counts;
}

}  // namespace troupe::store::jobs_table
