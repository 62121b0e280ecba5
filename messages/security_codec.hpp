// The security area's part of the codec (messages/security.capnp <-> messages/security.hpp).
// Internal to the messages library: codec.cpp calls these for the envelope's `security` member.
#pragma once

#include <optional>

#include "messages/security.capnp.h"
#include "messages/security.hpp"

namespace troupe::msg::security_codec {

void put(wire::SecurityMessage::Builder b, const security_message& m);
// nullopt for a member this build does not know; throws (kj::Exception, parts::refused_value) on
// bad input.
std::optional<security_message> get(wire::SecurityMessage::Reader r);

}  // namespace troupe::msg::security_codec
