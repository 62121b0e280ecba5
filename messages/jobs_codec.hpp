// The jobs area's part of the codec (messages/jobs.capnp <-> messages/jobs.hpp). Internal to
// the messages library: codec.cpp calls these for the envelope's `jobs` member.
#pragma once

#include <optional>

#include "messages/jobs.capnp.h"
#include "messages/jobs.hpp"

namespace troupe::msg::jobs_codec {

void put(wire::JobsMessage::Builder b, const jobs_message& m);
// nullopt for a member this build does not know; throws (kj::Exception, parts::refused_value) on
// bad input.
std::optional<jobs_message> get(wire::JobsMessage::Reader r);

}  // namespace troupe::msg::jobs_codec
