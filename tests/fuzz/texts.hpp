// Every text field of an envelope, for the fuzz targets' invariant that a decoded message
// holds only valid UTF-8. A new message kind fails to compile here until it is listed.
#pragma once

#include <string>
#include <vector>

#include "messages/envelope.hpp"

namespace troupe::fuzz {

std::vector<const std::string*> texts_of(const msg::envelope& env);

}  // namespace troupe::fuzz
