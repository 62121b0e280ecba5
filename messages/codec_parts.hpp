// Helpers shared by the area codecs (codec.cpp, security_codec.cpp): text and enum
// conversions between plain values and Cap'n Proto. Internal to the messages library.
#pragma once

#include <capnp/blob.h>

#include <cstdint>
#include <exception>
#include <string>

namespace troupe::msg::parts {

// A received enum value outside the schema we know is malformed input.
struct bad_enum : std::exception {
  const char* what() const noexcept override { return "enum value out of range"; }
};

template <class To, class From>
To checked_enum(From value, To last) {
  if (static_cast<uint16_t>(value) > static_cast<uint16_t>(last)) throw bad_enum{};
  return static_cast<To>(static_cast<uint16_t>(value));
}

template <class To, class From>
To cast_enum(From value) {
  return static_cast<To>(static_cast<uint16_t>(value));
}

inline capnp::Text::Reader text(const std::string& s) { return {s.data(), s.size()}; }
inline std::string str(capnp::Text::Reader t) { return {t.begin(), t.size()}; }

}  // namespace troupe::msg::parts
