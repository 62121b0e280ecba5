// Helpers on envelopes and the names of enum values.
#include "messages/envelope.hpp"
#include "messages/print.hpp"

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
    case error_code::permission_denied: return "permission_denied";
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

const char* to_string(heartbeat_reject_reason reason) {
  switch (reason) {
    case heartbeat_reject_reason::unknown_node: return "unknown_node";
    case heartbeat_reject_reason::declared_dead: return "declared_dead";
    case heartbeat_reject_reason::stale_incarnation: return "stale_incarnation";
  }
  return "unknown";
}

const char* to_string(key_role role) {
  switch (role) {
    case key_role::admin: return "admin";
    case key_role::node: return "node";
    case key_role::enroll: return "enroll";
    case key_role::submit: return "submit";
    case key_role::rank: return "rank";
  }
  return "unknown";
}

const char* to_string(app_token_role role) {
  switch (role) {
    case app_token_role::predict: return "predict";
    case app_token_role::manage: return "manage";
  }
  return "unknown";
}

std::optional<app_token_role> parse_app_token_role(const std::string& text) {
  for (auto role : {app_token_role::predict, app_token_role::manage})
    if (text == to_string(role)) return role;
  return std::nullopt;
}

const char* to_string(artifact_kind kind) {
  switch (kind) {
    case artifact_kind::dataset: return "dataset";
    case artifact_kind::checkpoint: return "checkpoint";
    case artifact_kind::model: return "model";
  }
  return "unknown";
}

std::optional<artifact_kind> parse_artifact_kind(const std::string& text) {
  for (auto kind : {artifact_kind::dataset, artifact_kind::checkpoint, artifact_kind::model})
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, node_state state) { return out << to_string(state); }
std::ostream& operator<<(std::ostream& out, heartbeat_reject_reason reason) {
  return out << to_string(reason);
}
std::ostream& operator<<(std::ostream& out, error_code code) { return out << to_string(code); }
std::ostream& operator<<(std::ostream& out, key_role role) { return out << to_string(role); }
std::ostream& operator<<(std::ostream& out, artifact_kind kind) { return out << to_string(kind); }

}  // namespace troupe::msg
