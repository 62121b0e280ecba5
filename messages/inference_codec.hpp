// The inference area's part of the codec (messages/inference.capnp <-> messages/inference.hpp).
// Internal to the messages library: codec.cpp calls these for the envelope's `inference` member.
#pragma once

#include <optional>

#include "messages/inference.capnp.h"
#include "messages/inference.hpp"

namespace troupe::msg::inference_codec {

void put(wire::InferenceMessage::Builder b, const inference_message& m);
// nullopt for a member this build does not know; throws (kj::Exception, parts::refused_value) on
// bad input.
std::optional<inference_message> get(wire::InferenceMessage::Reader r);

}  // namespace troupe::msg::inference_codec
