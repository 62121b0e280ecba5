#include "cluster/store/metrics_table.hpp"

#include <algorithm>
#include <map>

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
      "CREATE INDEX job_metrics_by_kind ON job_metrics (job_id, kind, seq)",
      "CREATE TABLE job_metric_counts ("
      " job_id TEXT PRIMARY KEY,"
      " steps BIGINT NOT NULL)"};  // the job's step rows in job_metrics
}

namespace {

constexpr size_t rows_per_insert = 64;  // 13 parameters a row
constexpr size_t columns = 13;

// Inserts `rows` (at most rows_per_insert) in one statement, leaving those stored already as they
// are; adds the steps it stored to `new_steps`, by job.
void insert(sql_session& session, const metric_record* rows, size_t count,
            std::map<std::string, int64_t>& new_steps) {
  std::string sql =
      "INSERT INTO job_metrics (job_id, seq, attempt_id, kind, epoch, step, loss, learning_rate,"
      " samples_per_second, val_loss, val_accuracy, val_mae, at_ms) VALUES ";
  sql_params params;
  for (size_t i = 0; i < count; ++i) {
    const auto& r = rows[i];
    sql += i ? ", (" : "(";
    for (size_t c = 1; c <= columns; ++c)
      sql += "$" + std::to_string(i * columns + c) + (c < columns ? ", " : ")");
    params.insert(params.end(),
                  {r.job_id, static_cast<int64_t>(r.seq), r.attempt_id, r.kind, int64_t{r.epoch},
                   static_cast<int64_t>(r.step), r.loss, r.learning_rate, r.samples_per_second,
                   nullable(r.val_loss), nullable(r.val_accuracy), nullable(r.val_mae), r.at_ms});
  }
  sql += " ON CONFLICT (job_id, seq) DO NOTHING RETURNING job_id, kind";
  for (const auto& stored : session.query(sql, params))
    if (stored.text(1) == "step") ++new_steps[stored.text(0)];
}

// Counts the job's `added` steps and, beyond `keep_steps`, deletes its oldest ones: a walk of
// only as many index entries as it deletes.
void keep_newest_steps(sql_session& session, const std::string& job_id, int64_t added,
                       uint64_t keep_steps) {
  const auto steps =
      session
          .query(
              "INSERT INTO job_metric_counts (job_id, steps) VALUES ($1, $2) ON CONFLICT (job_id)"
              " DO UPDATE SET steps = job_metric_counts.steps + excluded.steps RETURNING steps",
              {job_id, added})
          .at(0)
          .integer(0);
  const auto keep = static_cast<int64_t>(keep_steps);
  if (steps <= keep) return;
  // The newest of the steps that go, then every step up to it.
  const auto last_gone = session.query(
      "SELECT seq FROM job_metrics WHERE job_id = $1 AND kind = 'step'"
      " ORDER BY seq LIMIT 1 OFFSET $2",
      {job_id, steps - keep - 1});
  if (!last_gone.empty())
    session.execute("DELETE FROM job_metrics WHERE job_id = $1 AND kind = 'step' AND seq <= $2",
                    {job_id, last_gone.front().integer(0)});
  session.execute("UPDATE job_metric_counts SET steps = $2 WHERE job_id = $1", {job_id, keep});
}

}  // namespace

void append(sql_session& session, const std::vector<metric_record>& rows, uint64_t keep_steps) {
  std::map<std::string, int64_t> new_steps;
  for (size_t from = 0; from < rows.size(); from += rows_per_insert)
    insert(session, rows.data() + from, std::min(rows_per_insert, rows.size() - from), new_steps);
  for (const auto& [job_id, added] : new_steps)
    keep_newest_steps(session, job_id, added, keep_steps);
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
