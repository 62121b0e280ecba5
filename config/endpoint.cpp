#include "config/endpoint.hpp"

#include <cctype>

#include "config/settings.hpp"
#include "messages/safe_text.hpp"

namespace troupe::config {
namespace {

// Letters, digits, '-', '.', '_', starting with a letter or digit (libzmq refuses "-x" or ".").
bool is_host_name(const std::string& host) {
  if (host.empty() || !std::isalnum(static_cast<unsigned char>(host.front()))) return false;
  for (unsigned char c : host)
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

}  // namespace

namespace {

// HOST:PORT from `text` after its first `skip` characters; `refuse` makes the error.
template <class Refuse>
tcp_endpoint parse_address(const std::string& text, size_t skip, endpoint_use use,
                           const Refuse& refuse) {
  const bool bind = use == endpoint_use::bind;
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon < skip) throw refuse("a port is missing");
  tcp_endpoint endpoint;
  endpoint.host = text.substr(skip, colon - skip);
  const auto port = text.substr(colon + 1);
  const bool any_host = bind && endpoint.host == "*";
  if (!any_host && !is_host_name(endpoint.host))
    throw refuse(bind ? "HOST is a name, an IPv4 address or *"
                      : "HOST is a name or an IPv4 address");
  const char* port_range = bind ? "PORT is 1..65535, or 0 for any free port" : "PORT is 1..65535";
  if (port.empty() || port.size() > 5) throw refuse(port_range);
  unsigned long number = 0;
  for (unsigned char c : port) {
    if (!std::isdigit(c)) throw refuse(port_range);
    number = number * 10 + (c - '0');
  }
  if (number > 65535 || (number == 0 && !bind)) throw refuse(port_range);
  endpoint.port = static_cast<uint16_t>(number);
  return endpoint;
}

}  // namespace

tcp_endpoint parse_tcp_endpoint(const std::string& text, const std::string& setting,
                                endpoint_use use) {
  auto refuse = [&](const std::string& why) {
    return config_error("`" + setting + "` must look like tcp://HOST:PORT (" + why + "), got `" +
                        msg::printable(text) + "`");
  };
  const std::string scheme = "tcp://";
  if (text.compare(0, scheme.size(), scheme) != 0) throw refuse("the scheme is tcp");
  return parse_address(text, scheme.size(), use, refuse);
}

tcp_endpoint parse_host_port(const std::string& text, const std::string& setting) {
  auto refuse = [&](const std::string& why) {
    return config_error("`" + setting + "` must look like HOST:PORT (" + why + "), got `" +
                        msg::printable(text) + "`");
  };
  auto endpoint = parse_address(text, 0, endpoint_use::bind, refuse);
  if (endpoint.host == "*") endpoint.host = "0.0.0.0";
  return endpoint;
}

}  // namespace troupe::config
