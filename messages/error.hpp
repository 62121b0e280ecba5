// The small error vocabulary shared by every Troupe component, chosen by how the caller
// should react. Detail goes in the message, never in new codes.
#pragma once

#include <string>

namespace troupe::msg {

enum class error_code {
  invalid_request,    // malformed or wrong: do not retry as is
  not_found,          // the named thing does not exist
  conflict,           // contradicts the current state
  overloaded,         // retry later with backoff
  unavailable,        // cannot answer now
  timeout,            // did not finish in time
  internal,           // a bug on the answering side
  permission_denied,  // the sender's key may not send this
};

const char* to_string(error_code code);

struct error {
  error_code code = error_code::internal;
  std::string message;
};

inline bool operator==(const error& a, const error& b) {
  return a.code == b.code && a.message == b.message;
}

}  // namespace troupe::msg
