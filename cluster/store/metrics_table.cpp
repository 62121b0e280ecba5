#include "cluster/store/metrics_table.hpp"

#include <set>

namespace troupe::store::metrics_table {

std::vector<std::string> create() {
  return {
      "CREATE TABLE job_metrics ("
      " job_id TEXT NOT NULL,"
      " seq BIGINT NOT NULL,"
      " attempt_id TEXT NOT NULL,"
      " kind TEXT NOT NULL,"  // 'step' or 'epoch'
      " epoch BIGINT NOT NULL,"
      " step BIGINT NOT NULL,"  // a uint64_t stored as its int64_t bit pattern
      " loss DOUBLE PRECISION NOT NULL,"
      " learning_rate DOUBLE PRECISION NOT NULL,"
      " samples_per_second DOUBLE PRECISION NOT NULL,"
      " val_loss DOUBLE PRECISION,"  // null: absent
      " val_accuracy DOUBLE PRECISION,"
      " val_mae DOUBLE PRECISION,"
      " at_ms BIGINT NOT NULL,"
      " PRIMARY KEY (job_id, seq))",
      "CREATE INDEX job_metrics_by_kind ON job_metrics (job_id, kind, seq)"};
}

void append(sql_session& session, const std::vector<metric_record>& rows, uint64_t keep_steps) {
  std::set<std::string> jobs;
  for (const auto& r : rows) {
    session.execute(
        "INSERT INTO job_metrics (job_id, seq, attempt_id, kind, epoch, step, loss, learning_rate,"
        " samples_per_second, val_loss, val_accuracy, val_mae, at_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " ON CONFLICT (job_id, seq) DO NOTHING",
        {r.job_id, static_cast<int64_t>(r.seq), r.attempt_id, r.kind, int64_t{r.epoch},
         static_cast<int64_t>(r.step), r.loss, r.learning_rate, r.samples_per_second,
         nullable(r.val_loss), nullable(r.val_accuracy), nullable(r.val_mae), r.at_ms});
    jobs.insert(r.job_id);
  }
  // The step `keep_steps` places below the newest, and every one before it, goes.
  for (const auto& job : jobs)
    session.execute(
        "DELETE FROM job_metrics WHERE job_id = $1 AND kind = 'step' AND seq <= ("
        "SELECT seq FROM job_metrics WHERE job_id = $1 AND kind = 'step'"
        " ORDER BY seq DESC LIMIT 1 OFFSET $2)",
        {job, static_cast<int64_t>(keep_steps)});
}

std::vector<metric_record> load(sql_session& session, const std::string& job_id, uint64_t after,
                                uint32_t limit) {
  std::vector<metric_record> rows;
  for (const auto& row : session.query(
           "SELECT seq, attempt_id, kind, epoch, step, loss, learning_rate, samples_per_second,"
           " val_loss, val_accuracy, val_mae, at_ms FROM job_metrics"
           " WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
           {job_id, static_cast<int64_t>(after), int64_t{limit}})) {
    metric_record r;
    r.job_id = job_id;
    r.seq = static_cast<uint64_t>(row.integer(0));
    r.attempt_id = row.text(1);
    r.kind = row.text(2);
    r.epoch = static_cast<uint32_t>(row.integer(3));
    r.step = static_cast<uint64_t>(row.integer(4));
    r.loss = row.real(5);
    r.learning_rate = row.real(6);
    r.samples_per_second = row.real(7);
    r.val_loss = row.nullable_real(8);
    r.val_accuracy = row.nullable_real(9);
    r.val_mae = row.nullable_real(10);
    r.at_ms = row.integer(11);
    rows.push_back(std::move(r));
  }
  return rows;
}

uint64_t last_seq(sql_session& session, const std::string& job_id) {
  return static_cast<uint64_t>(
      session.query("SELECT COALESCE(MAX(seq), 0) FROM job_metrics WHERE job_id = $1", {job_id})
          .at(0)
          .integer(0));
}

}  // namespace troupe::store::metrics_table
