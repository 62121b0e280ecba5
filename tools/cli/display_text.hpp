// Untrusted text (names, labels, versions and messages from nodes and the head) made safe to
// print on a terminal, and the columns it takes there.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace troupe::cli {

// `text` with everything a terminal would act on, or that hides or reorders text, shown
// escaped in ASCII:
//   \n \r \t                 those three
//   \\                       a backslash, so that an escape cannot be forged
//   \xNN                     other C0 controls and DEL; each byte that is not part of valid
//                            UTF-8 (overlong forms, surrogates, above U+10FFFF, cut short)
//   \uNNNN                   C1 controls; bidi controls (U+061C, U+200E, U+200F,
//                            U+202A-U+202E, U+2066-U+2069); zero-width characters (U+200B-
//                            U+200D, U+2060, U+FEFF); line and paragraph separators (U+2028,
//                            U+2029)
// Hex digits are lowercase. Everything else is kept, so the result is valid UTF-8.
std::string escape(std::string_view text);

// The terminal columns `text` takes (see char_width); a byte that is not valid UTF-8 counts 1.
size_t display_width(std::string_view text);

}  // namespace troupe::cli
