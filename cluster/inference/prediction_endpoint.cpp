#include "cluster/inference/prediction_endpoint.hpp"

#include <cctype>
#include <cstdint>

namespace troupe::inference {
namespace {

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

bool is_host(const std::string& host) {
  if (host.empty()) return false;
  if (host.front() == '[') {  // an IPv6 address
    if (host.size() < 3 || host.back() != ']') return false;
    for (size_t i = 1; i + 1 < host.size(); ++i)
      if (!std::isxdigit(static_cast<unsigned char>(host[i])) && host[i] != ':' && host[i] != '.')
        return false;
    return true;
  }
  if (!std::isalnum(static_cast<unsigned char>(host.front()))) return false;
  for (char c : host)
    if (!is_host_char(c)) return false;
  return true;
}

bool is_port(const std::string& port) {
  if (port.empty() || port.size() > 5) return false;
  uint32_t n = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  return n >= 1 && n <= 65535;
}

}  // namespace

std::optional<std::string> prediction_endpoint_host(const std::string& endpoint) {
  const std::string scheme = "tcp://";
  if (endpoint.size() > max_prediction_endpoint_chars || endpoint.rfind(scheme, 0) != 0)
    return std::nullopt;
  const auto colon = endpoint.rfind(':');
  if (colon < scheme.size()) return std::nullopt;
  auto host = endpoint.substr(scheme.size(), colon - scheme.size());
  if (!is_host(host) || !is_port(endpoint.substr(colon + 1))) return std::nullopt;
  return host;
}

}  // namespace troupe::inference
