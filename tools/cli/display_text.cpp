#include "tools/cli/display_text.hpp"

#include "messages/utf8.hpp"
#include "tools/cli/char_width.hpp"

namespace troupe::cli {

size_t display_width(std::string_view text) {
  size_t width = 0;
  for (size_t at = 0; at < text.size();) {
    auto c = msg::next_code_point(text, at);
    width += c ? char_width(*c) : 1;
  }
  return width;
}

}  // namespace troupe::cli
