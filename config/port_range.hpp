// A range of TCP ports, as the `serve_ports` setting names it ("LOW-HIGH", docs/configuration.md)
// and a node passes it to its serve replicas (TROUPE_SERVE_PORTS): the ports their prediction
// sockets may bind. Header-only, so that the replica reads it without the daemon's config.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace troupe::config {

inline constexpr const char* serve_ports_variable = "TROUPE_SERVE_PORTS";
inline constexpr const char* port_range_rule = "LOW-HIGH, 1024 <= LOW <= HIGH <= 65535";

struct port_range {
  uint16_t low = 0, high = 0;
};

// "LOW-HIGH" (decimal, 1024 <= LOW <= HIGH <= 65535), or nullopt.
inline std::optional<port_range> parse_port_range(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view digits) -> std::optional<uint32_t> {
    uint32_t n = 0;
    const auto end = digits.data() + digits.size();
    const auto parsed = std::from_chars(digits.data(), end, n);
    if (digits.empty() || digits.front() == '+' || parsed.ec != std::errc() || parsed.ptr != end)
      return std::nullopt;
    return n;
  };
  const auto low = number(text.substr(0, dash));
  const auto high = number(text.substr(dash + 1));
  if (!low || !high || *low < 1024 || *low > *high || *high > 65535) return std::nullopt;
  return port_range{static_cast<uint16_t>(*low), static_cast<uint16_t>(*high)};
}

}  // namespace troupe::config
