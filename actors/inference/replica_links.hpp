// The head's connections to its replicas' prediction sockets (nodes/replica/prediction_socket.hpp):
// one DEALER per replica, with the head's key pair, each on a socket thread of its own that
// decodes the replica's answers (bounded by `limits`) and hands them to `on_answer`, which must
// not block. Plain C++, thread-safe; a link that closes joins its thread, so link() and drop()
// must not be called under a lock that `on_answer` takes.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "cluster/transport/socket_loop.hpp"
#include "messages/codec.hpp"

namespace troupe::inference {

class replica_links {
 public:
  using answer_fn = std::function<void(const std::string& attempt_id, msg::envelope answer)>;

  // `keys`: the head's public and secret key (none: plain TCP, tests of the transport only).
  replica_links(std::optional<transport::curve_keys> keys, msg::decode_limits limits,
                answer_fn on_answer);
  replica_links(const replica_links&) = delete;  // its socket threads hold `this`
  replica_links& operator=(const replica_links&) = delete;

  // Connects to the socket at `endpoint`, whose key is `public_key`, for the replica, unless its
  // link goes there already. Returns whether a link it had elsewhere was closed for it. Throws
  // zmq::error_t when libzmq refuses the address; the link it had stays then.
  bool link(const std::string& attempt_id, const std::string& endpoint,
            const std::string& public_key);
  // Closes the replica's link, if it has one.
  void drop(const std::string& attempt_id);
  // Queues `bytes` for the replica; false when it has no link.
  bool send(const std::string& attempt_id, std::string bytes);

 private:
  struct link_entry {
    std::string endpoint;
    std::string public_key;
    std::unique_ptr<transport::socket_loop> loop;
  };

  std::optional<transport::curve_keys> keys_;
  msg::decode_limits limits_;
  answer_fn on_answer_;
  zmq::context_t context_{1};
  std::mutex mutex_;
  std::map<std::string, link_entry> links_;  // by attempt id; closed before the context
};

}  // namespace troupe::inference
