// A head for CLI tests: a ROUTER socket on loopback that answers each request with the next
// scripted reply body, on its own thread, and keeps the requests it got. With no replies left
// it reads and keeps requests but answers nothing (a head that does not answer); the first
// `unanswered` requests get no answer either (their replies were lost).
// It serves CURVE with a key pair of its own and, having no ZAP handler, admits any client key:
// `client_credential()` is one for it.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "cluster/security/credentials.hpp"
#include "messages/codec.hpp"
#include "tools/cli/session.hpp"

namespace troupe::testing {

class scripted_head {
 public:
  explicit scripted_head(std::vector<msg::body> replies, size_t unanswered = 0);
  ~scripted_head();

  const std::string& endpoint() const { return endpoint_; }
  const security::credential& client_credential() const { return client_; }
  std::vector<msg::body> requests() const;

 private:
  void serve();

  zmq::context_t context_{1};
  zmq::socket_t router_{context_, zmq::socket_type::router};
  std::string endpoint_;
  security::credential client_;
  std::vector<msg::body> replies_;
  size_t unanswered_;
  mutable std::mutex mutex_;
  std::vector<msg::body> requests_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A CLI session with `head`, printing JSON when `json` is set, waiting `timeout` per reply.
cli::session session_with(const scripted_head& head, bool json = false,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace troupe::testing
