// How a CLI step reports failure: as a value carrying the process's exit code and a one-line
// message, so that commands run (and are tested) in process; only `main` prints and exits.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace troupe::cli {

enum class exit_code : int {
  ok = 0,
  head_error = 1,   // the head answered with an error, or not with what was asked
  usage = 2,        // bad flags, config or address
  unreachable = 3,  // no answer from the head in time
};

// Printed by `main` as "troupe: MESSAGE".
struct failure {
  cli::exit_code exit_code = exit_code::usage;
  std::string message;
};

// A value, or the failure that prevented it.
template <class T>
class result {
 public:
  result(T value) : state_(std::move(value)) {}
  result(failure f) : state_(std::move(f)) {}

  explicit operator bool() const { return std::holds_alternative<T>(state_); }
  T& operator*() { return std::get<T>(state_); }
  const T& operator*() const { return std::get<T>(state_); }
  T* operator->() { return &std::get<T>(state_); }
  const T* operator->() const { return &std::get<T>(state_); }
  const failure& error() const { return std::get<failure>(state_); }

 private:
  std::variant<T, failure> state_;
};

}  // namespace troupe::cli
