// What the HTTP server hands a route's handler and what the handler answers. Plain C++ (no
// Boost), so that the endpoints' code does not pay for Beast's headers.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "messages/error.hpp"

namespace troupe::http {

struct request {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // without the query
  std::string query;                           // after '?', undecoded; empty when none
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::map<std::string, std::string> params;  // the route pattern's {name} parts

  // The header's value, or "" when absent. `name` in lower case.
  const std::string& header(const std::string& name) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones, e.g. Retry-After
};

// {"error": "<message>"} with `status`.
response error_response(unsigned status, const std::string& message);
// A JSON body with status 200.
response json_response(std::string body);
// The HTTP status for an error of the shared vocabulary.
unsigned status_of(msg::error_code code);
response error_response(const msg::error& e);

// Answers one request, exactly once, from any thread. Destroyed without an answer, it answers
// 500 (a handler's bug must not leave a client waiting).
class responder {
 public:
  using send_fn = std::function<void(response)>;
  explicit responder(send_fn send) : state_(std::make_shared<state>(std::move(send))) {}

  void operator()(response r) const { state_->answer(std::move(r)); }

 private:
  struct state {
    explicit state(send_fn s) : send(std::move(s)) {}
    ~state();
    void answer(response r);
    send_fn send;
    std::atomic<bool> answered{false};
  };
  std::shared_ptr<state> state_;
};

using handler = std::function<void(request&, responder)>;

}  // namespace troupe::http
