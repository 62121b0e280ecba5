#include "cluster/http/message.hpp"

#include <nlohmann/json.hpp>

namespace troupe::http {

const std::string& request::header(const std::string& name) const {
  static const std::string none;
  auto it = headers.find(name);
  return it == headers.end() ? none : it->second;
}

response error_response(unsigned status, const std::string& message) {
  response r;
  r.status = status;
  // Replacing invalid UTF-8: a message may quote what a client sent.
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
  return r;
}

response json_response(std::string body) {
  response r;
  r.body = std::move(body);
  return r;
}

unsigned status_of(msg::error_code code) {
  switch (code) {
    case msg::error_code::invalid_request: return 400;
    case msg::error_code::permission_denied: return 403;
    case msg::error_code::not_found: return 404;
    case msg::error_code::conflict: return 409;
    case msg::error_code::overloaded: return 429;
    case msg::error_code::unavailable: return 503;
    case msg::error_code::timeout: return 504;
    case msg::error_code::internal: return 500;
  }
  return 500;
}

response error_response(const msg::error& e) {
  return error_response(status_of(e.code), e.message);
}

responder::state::~state() {
  if (!answered.exchange(true)) send(error_response(500, "the request was not answered"));
}

void responder::state::answer(response r) {
  if (!answered.exchange(true)) send(std::move(r));
}

}  // namespace troupe::http
