#include "cluster/store/transitions_table.hpp"

#include <algorithm>
#include <tuple>

namespace troupe::store::transitions_table {

std::vector<std::string> create() {
  return {
      "CREATE TABLE transitions ("
      " job_id TEXT NOT NULL,"
      " seq BIGINT NOT NULL,"  // a uint64_t stored as its int64_t bit pattern
      " from_state TEXT NOT NULL,"
      " to_state TEXT NOT NULL,"
      " reason TEXT NOT NULL,"
      " at_ms BIGINT NOT NULL,"
      " PRIMARY KEY (job_id, seq))"};
}

void put(sql_session& session, const job_transition& t) {
  session.execute(
      "INSERT INTO transitions (job_id, seq, from_state, to_state, reason, at_ms)"
      " VALUES ($1, $2, $3, $4, $5, $6)"
      " ON CONFLICT (job_id, seq) DO UPDATE SET from_state = excluded.from_state,"
      " to_state = excluded.to_state, reason = excluded.reason, at_ms = excluded.at_ms",
      {t.job_id, static_cast<int64_t>(t.seq), t.from_state, t.to_state, t.reason, t.at_ms});
}

std::vector<job_transition> load(sql_session& session) {
  std::vector<job_transition> transitions;
  for (const auto& row :
       session.query("SELECT job_id, seq, from_state, to_state, reason, at_ms FROM transitions")) {
    job_transition t;
    t.job_id = row.text(0);
    t.seq = static_cast<uint64_t>(row.integer(1));
    t.from_state = row.text(2);
    t.to_state = row.text(3);
    t.reason = row.text(4);
    t.at_ms = row.integer(5);
    transitions.push_back(std::move(t));
  }
  // Sorted here, not by ORDER BY: PostgreSQL orders text by the database's collation and
  // SQLite by bytes, and seq by its bit pattern.
  std::sort(transitions.begin(), transitions.end(),
            [](const job_transition& a, const job_transition& b) {
              return std::tie(a.job_id, a.seq) < std::tie(b.job_id, b.seq);
            });
  return transitions;
}

}  // namespace troupe::store::transitions_table
