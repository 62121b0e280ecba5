// The artifacts area's part of the codec (messages/artifacts.capnp <-> messages/artifacts.hpp).
// Internal to the messages library: codec.cpp calls these for the envelope's `artifacts` member.
#pragma once

#include <optional>

#include "messages/artifacts.capnp.h"
#include "messages/artifacts.hpp"

namespace troupe::msg::artifacts_codec {

void put(wire::ArtifactsMessage::Builder b, const artifacts_message& m);
// nullopt for a member this build does not know; throws (kj::Exception, parts::refused_value) on
// bad input.
std::optional<artifacts_message> get(wire::ArtifactsMessage::Reader r);

}  // namespace troupe::msg::artifacts_codec
