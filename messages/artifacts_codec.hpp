// The artifacts area's part of the codec (messages/artifacts.capnp <-> messages/artifacts.hpp).
// Internal to the messages library: codec.cpp calls these for the envelope's `artifacts` member.
#pragma once

#include <optional>

#include "messages/artifacts.capnp.h"
#include "messages/artifacts.hpp"

namespace troupe::msg::artifacts_codec {

void put(wire::ArtifactsMessage::Builder b, const artifacts_message& m);
// The parts other areas carry too (training's artifact replies). get_* throw as get() does.
void put_info(wire::ArtifactInfo::Builder b, const artifact_info& v);
artifact_info get_info(wire::ArtifactInfo::Reader r);
artifact_kind get_kind(wire::ArtifactKind kind);

// nullopt for a member this build does not know; throws (kj::Exception, parts::refused_value) on
// bad input.
std::optional<artifacts_message> get(wire::ArtifactsMessage::Reader r);

}  // namespace troupe::msg::artifacts_codec
