#include "messages/utf8.hpp"

namespace troupe::msg {
namespace {

// What a lead byte announces: how many continuation bytes follow, its own payload bits, and
// the smallest code point that needs this length (anything below is an overlong form).
struct sequence {
  size_t continuation_bytes;
  char32_t payload;
  char32_t smallest;
};

std::optional<sequence> sequence_of(unsigned char lead) {
  if ((lead & 0xe0) == 0xc0) return sequence{1, char32_t{lead} & 0x1fu, 0x80};
  if ((lead & 0xf0) == 0xe0) return sequence{2, char32_t{lead} & 0x0fu, 0x800};
  if ((lead & 0xf8) == 0xf0) return sequence{3, char32_t{lead} & 0x07u, 0x10000};
  return std::nullopt;
}

}  // namespace

std::optional<char32_t> next_code_point(std::string_view text, size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos++]);
  if (lead < 0x80) return lead;
  const auto seq = sequence_of(lead);
  if (!seq || text.size() - pos < seq->continuation_bytes) return std::nullopt;
  char32_t code = seq->payload;
  for (size_t k = 0; k < seq->continuation_bytes; ++k) {
    const auto byte = static_cast<unsigned char>(text[pos + k]);
    if ((byte & 0xc0) != 0x80) return std::nullopt;
    code = (code << 6) | (byte & 0x3fu);
  }
  if (code < seq->smallest || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
    return std::nullopt;
  pos += seq->continuation_bytes;
  return code;
}

bool is_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();)
    if (!next_code_point(text, pos)) return false;
  return true;
}

}  // namespace troupe::msg
