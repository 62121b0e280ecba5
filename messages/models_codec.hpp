// The models area's part of the codec (messages/models.capnp <-> messages/models.hpp). Internal
// to the messages library: codec.cpp calls these for the envelope's `models` member.
#pragma once

#include <optional>

#include "messages/models.capnp.h"
#include "messages/models.hpp"

namespace troupe::msg::models_codec {

void put(wire::ModelsMessage::Builder b, const models_message& m);
// nullopt for a member this build does not know; throws (kj::Exception, parts::refused_value) on
// bad input.
std::optional<models_message> get(wire::ModelsMessage::Reader r);

}  // namespace troupe::msg::models_codec
