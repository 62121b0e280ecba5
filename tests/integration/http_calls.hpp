// HTTP calls to real daemons with curl (bounded by --max-time), for the integration tests.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tools/local_cluster/local_cluster.hpp"

namespace troupe::test {

struct http_answer {
  int status = 0;  // 0: no answer
  std::string body;
  std::string headers;  // as received, for the few a test looks at
};

// `method` `path` at `address` (HOST:PORT), with `token` as the bearer token when not empty and
// `body` as a JSON body when not empty. Files in the cluster's directory carry the answer.
inline http_answer http_call(const local::cluster& c, const std::string& method,
                             const std::string& address, const std::string& path,
                             const std::string& token = "", const std::string& body = "") {
  const auto body_file = c.root() + "/http-body", header_file = c.root() + "/http-headers";
  std::vector<std::string> argv{"/usr/bin/curl", "-s", "--max-time",   "5",  "-o",  body_file, "-D",
                                header_file,     "-w", "%{http_code}", "-X", method};
  if (!token.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
  if (!body.empty())
    argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", body});
  argv.push_back("http://" + address + path);
  auto r = local::run_command(argv);
  auto read = [](const std::string& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  return {std::atoi(r.out.c_str()), read(body_file), read(header_file)};
}

inline http_answer http_get(const local::cluster& c, const std::string& address,
                            const std::string& path) {
  return http_call(c, "GET", address, path);
}

}  // namespace troupe::test
