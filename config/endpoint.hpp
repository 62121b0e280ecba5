// The one syntax of a Troupe address: tcp://HOST:PORT. IPv6 addresses are refused for now:
// the transport does not enable ZMQ_IPV6.
#pragma once

#include <cstdint>
#include <string>

namespace troupe::config {

struct tcp_endpoint {
  std::string host;  // a host name, an IPv4 address, or * (bind only)
  uint16_t port = 0;
};

enum class endpoint_use { bind, connect };

// Parses tcp://HOST:PORT. PORT is 1..65535; to bind, 0 (any free port) and the host * (every
// interface) are allowed too. Throws config_error naming `setting` and saying what is wrong.
tcp_endpoint parse_tcp_endpoint(const std::string& text, const std::string& setting,
                                endpoint_use use);

// Parses HOST:PORT to bind (an HTTP server's address): HOST a name or an IPv4 address, PORT
// 0..65535 (0: any free port). Throws config_error naming `setting`.
tcp_endpoint parse_host_port(const std::string& text, const std::string& setting);

}  // namespace troupe::config
