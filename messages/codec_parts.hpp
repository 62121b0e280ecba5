// Helpers shared by the area codecs (codec.cpp, security_codec.cpp, ...): text, bytes and enum
// conversions between plain values and Cap'n Proto. Internal to the messages library.
#pragma once

#include <capnp/blob.h>

#include <cmath>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "messages/utf8.hpp"

namespace troupe::msg::parts {

// A value Cap'n Proto reads fine but this protocol refuses; `what` is fit for the peer.
struct refused_value : std::exception {
  const char* reason;
  explicit refused_value(const char* r) : reason(r) {}
  const char* what() const noexcept override { return reason; }
};

template <class To, class From>
To checked_enum(From value, To last) {
  if (static_cast<uint16_t>(value) > static_cast<uint16_t>(last))
    throw refused_value("an enum value is out of range");
  return static_cast<To>(static_cast<uint16_t>(value));
}

template <class To, class From>
To cast_enum(From value) {
  return static_cast<To>(static_cast<uint16_t>(value));
}

inline capnp::Text::Reader text(const std::string& s) { return {s.data(), s.size()}; }

inline capnp::Data::Reader data(const std::string& s) {
  return {reinterpret_cast<const capnp::byte*>(s.data()), s.size()};
}
inline std::string bytes(capnp::Data::Reader d) { return {d.asChars().begin(), d.size()}; }

// Every received text must be valid UTF-8 (messages/utf8.hpp).
inline std::string str(capnp::Text::Reader t) {
  std::string s(t.begin(), t.size());
  if (!is_utf8(s)) throw refused_value("a text field is not valid UTF-8");
  return s;
}

template <class List>
std::vector<std::string> texts(List list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto t : list) out.push_back(str(t));
  return out;
}

template <class Builder>
void put_texts(Builder b, const std::vector<std::string>& v) {
  for (unsigned i = 0; i < v.size(); ++i) b.set(i, text(v[i]));
}

inline double finite(double value) {
  if (!std::isfinite(value)) throw refused_value("a number is not finite");
  return value;
}

}  // namespace troupe::msg::parts
