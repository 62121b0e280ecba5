// The training area's part of the codec (messages/training.capnp <-> messages/training.hpp).
// Internal to the messages library: codec.cpp calls these for the envelope's `training` member.
#pragma once

#include <optional>

#include "messages/training.capnp.h"
#include "messages/training.hpp"

namespace troupe::msg::training_codec {

void put(wire::TrainingMessage::Builder b, const training_message& m);
// nullopt for a member this build does not know; throws (kj::Exception, parts::refused_value) on
// bad input.
std::optional<training_message> get(wire::TrainingMessage::Reader r);

}  // namespace troupe::msg::training_codec
