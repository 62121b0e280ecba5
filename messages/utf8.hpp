// Strict UTF-8 (RFC 3629): the one decoder that every check and escape of text is built on.
// Refused: bytes that start no sequence, truncated sequences, overlong forms (e.g. "\xc0\x80"),
// surrogates (U+D800..U+DFFF) and code points above U+10FFFF.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace troupe::msg {

// Decodes the code point that starts at `pos` and moves `pos` past it. On an invalid
// sequence returns nullopt and moves `pos` past its first byte only.
std::optional<char32_t> next_code_point(std::string_view text, size_t& pos);

bool is_utf8(std::string_view text);

}  // namespace troupe::msg
