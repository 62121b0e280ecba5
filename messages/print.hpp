// Stream output of the protocol's enums (for logs and test diagnostics).
#pragma once

#include <ostream>

#include "messages/artifacts.hpp"
#include "messages/cluster.hpp"
#include "messages/error.hpp"
#include "messages/security.hpp"

namespace troupe::msg {

const char* to_string(heartbeat_reject_reason reason);

std::ostream& operator<<(std::ostream& out, node_state state);
std::ostream& operator<<(std::ostream& out, heartbeat_reject_reason reason);
std::ostream& operator<<(std::ostream& out, error_code code);
std::ostream& operator<<(std::ostream& out, key_role role);
std::ostream& operator<<(std::ostream& out, artifact_kind kind);

}  // namespace troupe::msg
