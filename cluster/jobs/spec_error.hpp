// The one error a job spec is refused with: which field is wrong and why. The message is meant
// for the person who wrote the spec; the head passes it on as an invalid_request.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "messages/safe_text.hpp"

namespace troupe::jobs {

class spec_error : public std::runtime_error {
 public:
  // `field` is the field's full path ("resources.gpus", "argv[0]"), empty for the whole
  // document; what() is "<field>: <reason>", or the reason alone for the whole document.
  spec_error(std::string field, const std::string& reason)
      : std::runtime_error(field.empty() ? reason : field + ": " + reason),
        field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// `text` as a message shows a string the user gave: quoted, escaped, cut after 64 bytes.
inline std::string shown(std::string_view text) {
  constexpr size_t longest = 64;
  if (text.size() <= longest) return "\"" + msg::printable(text) + "\"";
  size_t cut = longest;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  return "\"" + msg::printable(text.substr(0, cut)) + "\"...";
}

}  // namespace troupe::jobs
