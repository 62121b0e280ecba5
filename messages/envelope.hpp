// The envelope every inter-process message travels in (messages/envelope.capnp), as a plain
// C++ value. `body` holds exactly one message kind.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "messages/artifacts.hpp"
#include "messages/cluster.hpp"
#include "messages/error.hpp"
#include "messages/inference.hpp"
#include "messages/jobs.hpp"
#include "messages/models.hpp"
#include "messages/security.hpp"
#include "messages/training.hpp"

namespace troupe::msg {

inline constexpr uint16_t protocol_version = 1;

struct unimplemented {
  uint16_t body_ordinal = 0;
  bool operator==(const unimplemented& o) const { return body_ordinal == o.body_ordinal; }
};

// Order matches nothing on the wire; the codec maps each alternative to its union member.
using body =
    std::variant<error, unimplemented, register_node_request, register_node_reply, heartbeat,
                 heartbeat_rejected, deregister_node, cluster_status_request, cluster_status_reply,
                 node_list_request, node_list_reply, drain_node_request, drain_node_reply,
                 remove_node_request, remove_node_reply, security_message, jobs_message,
                 artifacts_message, models_message, training_message, inference_message>;

struct envelope {
  uint16_t version = protocol_version;
  uint64_t request_id = 0;
  std::string sender;
  msg::body body;
  bool operator==(const envelope& o) const {
    return version == o.version && request_id == o.request_id && sender == o.sender &&
           body == o.body;
  }
};

// A reply to `request` carrying `reply_body`, from `sender`.
envelope reply_to(const envelope& request, std::string sender, msg::body reply_body);

}  // namespace troupe::msg
