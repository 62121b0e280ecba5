#include "cluster/store/attempts_table.hpp"

namespace troupe::store::attempts_table {

std::vector<std::string> create() {
  return {
      "CREATE TABLE attempts ("
      " attempt_id TEXT PRIMARY KEY,"
      " job_id TEXT NOT NULL,"
      " task_index BIGINT NOT NULL,"  // the uint32_t fields are BIGINT: their full range fits
      " attempt BIGINT NOT NULL,"
      " node_id TEXT NOT NULL,"
      " state TEXT NOT NULL,"
      " reason TEXT NOT NULL,"
      " exit_code INTEGER,"  // NULL: did not exit (yet)
      " signal INTEGER,"     // NULL: not killed by a signal
      " gpus_json TEXT NOT NULL,"
      " log_path TEXT NOT NULL,"
      " master_port BIGINT NOT NULL,"
      " scheduled_at_ms BIGINT NOT NULL,"
      " started_at_ms BIGINT NOT NULL,"
      " finished_at_ms BIGINT NOT NULL)"};
}

void put(sql_session& session, const attempt_record& r) {
  session.execute(
      "INSERT INTO attempts (attempt_id, job_id, task_index, attempt, node_id, state, reason,"
      " exit_code, signal, gpus_json, log_path, master_port, scheduled_at_ms, started_at_ms,"
      " finished_at_ms)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
      " ON CONFLICT (attempt_id) DO UPDATE SET job_id = excluded.job_id,"
      " task_index = excluded.task_index, attempt = excluded.attempt,"
      " node_id = excluded.node_id, state = excluded.state, reason = excluded.reason,"
      " exit_code = excluded.exit_code, signal = excluded.signal,"
      " gpus_json = excluded.gpus_json, log_path = excluded.log_path,"
      " master_port = excluded.master_port, scheduled_at_ms = excluded.scheduled_at_ms,"
      " started_at_ms = excluded.started_at_ms, finished_at_ms = excluded.finished_at_ms",
      {r.attempt_id, r.job_id, int64_t{r.task_index}, int64_t{r.attempt}, r.node_id, r.state,
       r.reason, nullable(r.exit_code), nullable(r.signal), r.gpus_json, r.log_path,
       int64_t{r.master_port}, r.scheduled_at_ms, r.started_at_ms, r.finished_at_ms});
}

std::vector<attempt_record> load(sql_session& session) {
  std::vector<attempt_record> attempts;
  for (const auto& row : session.query(
           "SELECT attempt_id, job_id, task_index, attempt, node_id, state, reason, exit_code,"
           " signal, gpus_json, log_path, master_port, scheduled_at_ms, started_at_ms,"
           " finished_at_ms FROM attempts")) {
    attempt_record r;
    r.attempt_id = row.text(0);
    r.job_id = row.text(1);
    r.task_index = static_cast<uint32_t>(row.integer(2));
    r.attempt = static_cast<uint32_t>(row.integer(3));
    r.node_id = row.text(4);
    r.state = row.text(5);
    r.reason = row.text(6);
    if (const auto code = row.nullable_integer(7)) r.exit_code = static_cast<int32_t>(*code);
    if (const auto signal = row.nullable_integer(8)) r.signal = static_cast<int32_t>(*signal);
    r.gpus_json = row.text(9);
    r.log_path = row.text(10);
    r.master_port = static_cast<uint32_t>(row.integer(11));
    r.scheduled_at_ms = row.integer(12);
    r.started_at_ms = row.integer(13);
    r.finished_at_ms = row.integer(14);
    attempts.push_back(std::move(r));
  }
  return attempts;
}

}  // namespace troupe::store::attempts_table
