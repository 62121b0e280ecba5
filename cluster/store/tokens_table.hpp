// The app_tokens table: one row per application token (HTTP bearer token, docs/http.md), with
// only the SHA-256 of its secret. Its SQL and its mapping to app_token_record, written once for
// both backends.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cluster/store/sql.hpp"
#include "cluster/store/store.hpp"

namespace troupe::store::tokens_table {

// Migration 7: creates the table.
std::vector<std::string> create();

// Inserts the token; false, with nothing changed, when a token has its name.
bool insert(sql_session& session, const app_token_record& record);
std::vector<app_token_record> load(sql_session& session);
// Sets revoked_at_ms when not set yet; the row as it is then, or nullopt when none has the name.
std::optional<app_token_record> revoke(sql_session& session, const std::string& name,
                                       int64_t at_ms);

}  // namespace troupe::store::tokens_table
