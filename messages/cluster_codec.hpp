// The cluster area's part of the codec. Internal to the messages library: codec.cpp calls
// these for every envelope body member that belongs to the cluster area.
#pragma once

#include <optional>

#include "messages/envelope.capnp.h"
#include "messages/envelope.hpp"

namespace troupe::msg::cluster_codec {

using Body = wire::Envelope::Body;

// Encodes `v` into `b` when it is a cluster message; false (nothing written) otherwise.
bool put(Body::Builder b, const body& v);
// The cluster message in `b`; nullopt when `b` holds no cluster member. Throws (kj::Exception,
// parts::refused_value) on bad input.
std::optional<body> get(Body::Reader b);

}  // namespace troupe::msg::cluster_codec
