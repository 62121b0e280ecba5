// Routes a request by method and path pattern to its handler. A pattern's segments are literal
// or `{name}` (one whole segment, captured into request::params). Routes are added before the
// server starts; matching is read-only, so any io thread may match at once.
#pragma once

#include <string>
#include <vector>

#include "cluster/http/message.hpp"

namespace troupe::http {

class router {
 public:
  void add(std::string method, const std::string& pattern, handler h);

  // Calls the matching handler; answers 404 (no such path) or 405 (path known, method not).
  void dispatch(request& r, responder respond) const;

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" captures
    handler h;
  };
  bool matches(const route& rt, const std::vector<std::string>& path, request& r) const;
  std::vector<route> routes_;
};

// "/a/b/" -> {"a", "b"}; empty segments are dropped.
std::vector<std::string> split_path(const std::string& path);

}  // namespace troupe::http
