#include "tools/cli/display_text.hpp"

#include <cstdio>
#include <optional>

#include "tools/cli/char_width.hpp"

namespace troupe::cli {
namespace {

struct code_point {
  char32_t value;
  size_t length;  // bytes
};

bool continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// The code point starting at text[at], or nullopt when the bytes there are not valid UTF-8
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::optional<code_point> decode_at(std::string_view text, size_t at) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[at + i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return code_point{lead, 1};
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  if (lead < 0xC2 || lead > 0xF4 || at + length > text.size()) return std::nullopt;
  char32_t value = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if (!continuation(byte(i))) return std::nullopt;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < smallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return std::nullopt;
  return code_point{value, length};
}

bool shown_escaped(char32_t c) {
  return (c >= 0x80 && c <= 0x9F) || c == 0x061C || (c >= 0x200B && c <= 0x200F) ||
         (c >= 0x2028 && c <= 0x202E) || c == 0x2060 || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

void append_hex(std::string& out, const char* format, unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, value);
  out += buf;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    auto cp = decode_at(text, at);
    if (!cp) {
      append_hex(out, "\\x%02x", static_cast<unsigned char>(text[at]));
      ++at;
      continue;
    }
    char32_t c = cp->value;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7F) {
      append_hex(out, "\\x%02x", c);
    } else if (shown_escaped(c)) {
      append_hex(out, "\\u%04x", c);
    } else {
      out.append(text.substr(at, cp->length));
    }
    at += cp->length;
  }
  return out;
}

size_t display_width(std::string_view text) {
  size_t width = 0;
  for (size_t at = 0; at < text.size();) {
    auto cp = decode_at(text, at);
    width += cp ? char_width(cp->value) : 1;
    at += cp ? cp->length : 1;
  }
  return width;
}

}  // namespace troupe::cli
