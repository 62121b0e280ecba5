// A ZAP handler (ZeroMQ RFC 27): at every CURVE handshake on sockets of `context` that set a
// ZAP domain, libzmq asks it whether the client's public key may connect. It admits only keys
// `keys` knows and finds usable (the head's registry; a node's rank keys on its own context), and
// answers with the key's id as the connection's User-Id, which every message from it then carries.
//
// Fail closed: libzmq lets CURVE clients in when NO handler is bound, so the handler is bound
// in the constructor (before any server socket exists) and a handler that fails calls
// `on_failure`, which must stop the daemon.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "cluster/security/key_lookup.hpp"

namespace troupe::security {

class zap_handler {
 public:
  zap_handler(zmq::context_t& context, std::shared_ptr<const key_lookup> keys,
              std::function<void(const std::string& why)> on_failure);
  ~zap_handler();
  zap_handler(const zap_handler&) = delete;
  zap_handler& operator=(const zap_handler&) = delete;

 private:
  void run();
  void answer();

  std::shared_ptr<const key_lookup> keys_;
  std::function<void(const std::string&)> on_failure_;
  zmq::socket_t socket_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace troupe::security
