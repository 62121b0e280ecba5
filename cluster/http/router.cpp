#include "cluster/http/router.hpp"

namespace troupe::http {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void router::add(std::string method, const std::string& pattern, handler h) {
  routes_.push_back({std::move(method), split_path(pattern), std::move(h)});
}

bool router::matches(const route& rt, const std::vector<std::string>& path, request& r) const {
  if (rt.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const auto& s = rt.segments[i];
    if (s.size() > 2 && s.front() == '{' && s.back() == '}') continue;
    if (s != path[i]) return false;
  }
  for (size_t i = 0; i < path.size(); ++i) {
    const auto& s = rt.segments[i];
    if (s.size() > 2 && s.front() == '{' && s.back() == '}')
      r.params[s.substr(1, s.size() - 2)] = path[i];
  }
  return true;
}

void router::dispatch(request& r, responder respond) const {
  const auto path = split_path(r.path);
  std::string allowed;
  for (const auto& rt : routes_) {
    if (!matches(rt, path, r)) continue;
    if (rt.method == r.method) return rt.h(r, std::move(respond));
    allowed += (allowed.empty() ? "" : ", ") + rt.method;
    r.params.clear();
  }
  if (allowed.empty()) return respond(error_response(404, "no such endpoint: " + r.path));
  auto out = error_response(405, r.method + " is not allowed on " + r.path);
  out.headers.emplace_back("Allow", allowed);
  respond(std::move(out));
}

}  // namespace troupe::http
