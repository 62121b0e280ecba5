// Untrusted text (names, labels, versions and messages from nodes and the head) on a terminal:
// shown through msg::printable (messages/safe_text.hpp), the one escaping rule of daemon logs and
// CLI tables alike, in the columns it takes there.
#pragma once

#include <cstddef>
#include <string_view>

#include "messages/safe_text.hpp"

namespace troupe::cli {

// The terminal columns `text` takes (see char_width); a byte that is not valid UTF-8 counts 1.
size_t display_width(std::string_view text);

}  // namespace troupe::cli
