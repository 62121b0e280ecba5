// An HTTP/1.1 server on Boost.Beast (asio): a few io threads serve every connection, so a slow
// or idle client holds a socket, never a thread (cpp-httplib's thread per connection cannot
// reach the inference figures: issue 11). Keep-alive; one request at a time per connection;
// every error answered with a JSON body {"error": "..."}.
//   - a body over max_body_bytes: 413, then closed
//   - a request not read whole within read_deadline (a slow-loris client): 408, then closed;
//     an idle keep-alive connection is closed silently after the same time
//   - beyond max_connections open at once: 503, then closed
// Handlers run on an io thread and may answer later from any thread (responder).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cluster/http/router.hpp"

namespace troupe::http {

struct server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (server::port() says which)
  unsigned io_threads = 1;
  uint64_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds read_deadline{10'000};
  uint32_t max_connections = 1024;
};

class server {
 public:
  // Binds at once (throws std::runtime_error naming the address when it cannot); serves after
  // start().
  server(server_options options, router routes);
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  void start();
  void stop();  // closes every connection; answers still in flight are dropped
  uint16_t port() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace troupe::http
