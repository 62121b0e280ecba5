#include "cluster/security/enrollment.hpp"

#include "cluster/security/credentials.hpp"
#include "cluster/transport/request_client.hpp"

namespace troupe::security {

std::string enroll_node(const std::string& head_address, const join_token& token,
                        const std::string& node_id, const std::string& public_key,
                        const std::string& name, std::chrono::milliseconds timeout) {
  transport::request_client client(head_address, name, client_keys(token));
  auto reply = client.call(
      msg::security_message{msg::enroll_node_request{node_id, public_key, name}}, timeout);
  if (!reply)
    throw security_error("the head at " + head_address + " did not answer the enrollment within " +
                         std::to_string(timeout.count() / 1000) +
                         " s: the join token may have expired or been revoked, or the head is "
                         "unreachable");
  if (auto* err = std::get_if<msg::error>(&reply->body))
    throw security_error("the head refused the enrollment: " + err->message);
  auto* area = std::get_if<msg::security_message>(&reply->body);
  auto* enrolled = area ? std::get_if<msg::enroll_node_reply>(&area->body) : nullptr;
  if (!enrolled) throw security_error("the head answered the enrollment with something else");
  return enrolled->key_id;
}

}  // namespace troupe::security
