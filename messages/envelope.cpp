// Helpers on envelopes and the names of enum values.
#include "messages/envelope.hpp"

namespace troupe::msg {

envelope reply_to(const envelope& request, std::string sender, body reply_body) {
  envelope env;
  env.request_id = request.request_id;
  env.sender = std::move(sender);
  env.body = std::move(reply_body);
  return env;
}

const char* to_string(error_code code) {
  switch (code) {
    case error_code::invalid_request: return "invalid_request";
    case error_code::not_found: return "not_found";
    case error_code::conflict: return "conflict";
    case error_code::overloaded: return "overloaded";
    case error_code::unavailable: return "unavailable";
    case error_code::timeout: return "timeout";
    case error_code::internal: return "internal";
  }
  return "internal";
}

const char* to_string(node_state state) {
  switch (state) {
    case node_state::alive: return "alive";
    case node_state::suspect: return "suspect";
    case node_state::dead: return "dead";
    case node_state::draining: return "draining";
    case node_state::left: return "left";
  }
  return "unknown";
}

}  // namespace troupe::msg
