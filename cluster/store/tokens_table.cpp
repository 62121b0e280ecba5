#include "cluster/store/tokens_table.hpp"

namespace troupe::store::tokens_table {
namespace {

constexpr const char* columns =
    "name, tenant, role, secret_sha256, rate_limit_per_s, burst, created_at_ms, revoked_at_ms";

app_token_record from_row(const sql_row& row) {
  app_token_record r;
  r.name = row.text(0);
  r.tenant = row.text(1);
  r.role = row.text(2);
  r.secret_sha256 = row.text(3);
  r.rate_limit_per_s = static_cast<uint32_t>(row.integer(4));
  r.burst = static_cast<uint32_t>(row.integer(5));
  r.created_at_ms = row.integer(6);
  r.revoked_at_ms = row.integer(7);
  return r;
}

}  // namespace

std::vector<std::string> create() {
  return {
      "CREATE TABLE app_tokens ("
      " name TEXT PRIMARY KEY,"
      " tenant TEXT NOT NULL,"
      " role TEXT NOT NULL,"
      " secret_sha256 TEXT NOT NULL UNIQUE,"
      " rate_limit_per_s BIGINT NOT NULL,"
      " burst BIGINT NOT NULL,"
      " created_at_ms BIGINT NOT NULL,"
      " revoked_at_ms BIGINT NOT NULL)"};
}

bool insert(sql_session& session, const app_token_record& r) {
  if (!session.query("SELECT name FROM app_tokens WHERE name = $1", {r.name}).empty()) return false;
  session.execute(std::string("INSERT INTO app_tokens (") + columns +
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                  {r.name, r.tenant, r.role, r.secret_sha256, int64_t{r.rate_limit_per_s},
                   int64_t{r.burst}, r.created_at_ms, r.revoked_at_ms});
  return true;
}

std::vector<app_token_record> load(sql_session& session) {
  std::vector<app_token_record> tokens;
  for (const auto& row : session.query(std::string("SELECT ") + columns +
                                       " FROM app_tokens ORDER BY created_at_ms, name"))
    tokens.push_back(from_row(row));
  return tokens;
}

std::optional<app_token_record> revoke(sql_session& session, const std::string& name,
                                       int64_t at_ms) {
  session.execute("UPDATE app_tokens SET revoked_at_ms = $2 WHERE name = $1 AND revoked_at_ms = 0",
                  {name, at_ms});
  auto rows =
      session.query(std::string("SELECT ") + columns + " FROM app_tokens WHERE name = $1", {name});
  if (rows.empty()) return std::nullopt;
  return from_row(rows.front());
}

}  // namespace troupe::store::tokens_table
