// SQL written once for SQLite and PostgreSQL: a session runs statements with parameters and
// returns rows; a database runs a body as one transaction. The backends (sqlite_database,
// postgres_database) are the only files that include sqlite3.h or pqxx.
//
// Statements are written in the SQL both backends accept, with parameters $1..$n
// (PostgreSQL's form; SQLite reads them as named parameters and the backend binds by name).
// Values are integers, text, doubles or NULL: a BOOLEAN is an integer 0 or 1 (PostgreSQL takes
// '0' and '1' as booleans, and its booleans come back as 0 and 1); a DOUBLE PRECISION column
// holds finite doubles, which load back exactly (a negative zero as zero in SQLite). NULL only ever
// stands for an absent optional number (an exit code not known yet); every other column is NOT
// NULL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace troupe::store {

using sql_value = std::variant<int64_t, std::string, std::nullptr_t, double>;
using sql_params = std::vector<sql_value>;

// The parameter for an optional number: NULL when absent.
template <class Number>
sql_value nullable(const std::optional<Number>& value) {
  if (!value) return nullptr;
  if constexpr (std::is_floating_point_v<Number>)
    return static_cast<double>(*value);
  else
    return static_cast<int64_t>(*value);
}

struct sql_row {
  std::vector<sql_value> values;

  // Throws std::runtime_error when the column is missing or of the other kind.
  int64_t integer(size_t column) const;
  const std::string& text(size_t column) const;
  double real(size_t column) const;
  // A column that may be NULL (nullopt).
  std::optional<int64_t> nullable_integer(size_t column) const;
  std::optional<double> nullable_real(size_t column) const;
};

class sql_session {
 public:
  virtual ~sql_session() = default;
  // Runs a statement that returns no rows.
  virtual void execute(const std::string& sql, const sql_params& params = {}) = 0;
  virtual std::vector<sql_row> query(const std::string& sql, const sql_params& params = {}) = 0;
};

class sql_database {
 public:
  virtual ~sql_database() = default;

  // Runs `body` in one transaction that holds the database's write lock from its start
  // (SQLite: BEGIN IMMEDIATE), so concurrent writers serialize instead of deadlocking.
  // It commits when `body` returns and rolls back when it throws. A body may run twice (a
  // dropped connection is retried once on a new one), so it must only touch the database.
  // Throws store_error (store_lost when the data the store was opened on is gone), with a
  // one-line message that never shows a password.
  virtual void transaction(const std::function<void(sql_session&)>& body) = 0;

  // Throws store_lost when the data this database was opened on has disappeared under it
  // (SQLite: the file was deleted, replaced or truncated). Cheap: no statement runs.
  virtual void check_intact() = 0;

  // The store's URL, password hidden: for messages.
  virtual const std::string& name() const = 0;
};

}  // namespace troupe::store
