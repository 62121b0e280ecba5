#include "tools/cli/session.hpp"

#include "cluster/transport/request_client.hpp"
#include "tools/cli/display_text.hpp"

namespace troupe::cli {

result<msg::body> session::call(msg::body body) const {
  const auto& head = config_.head;
  std::optional<msg::envelope> reply;
  try {
    transport::request_client client(head, "troupe-cli", security::client_keys(config_.credential));
    reply = client.call(std::move(body), config_.timeout);
  } catch (const zmq::error_t& e) {
    return failure{exit_code::usage, "cannot reach " + head + ": " + e.what()};
  }
  if (!reply)
    return failure{exit_code::unreachable,
                   "no reply from the head at " + head + " within " +
                       std::to_string(config_.timeout.count()) +
                       " ms (is `trouped --head` running there, and does it know this CLI's key "
                       "(" +
                       config_.credential.key_id + ")?)"};
  if (auto* err = std::get_if<msg::error>(&reply->body))
    return failure{exit_code::head_error,
                   msg::printable(err->message) + " (" + msg::to_string(err->code) + ")"};
  if (std::holds_alternative<msg::unimplemented>(reply->body))
    return failure{exit_code::head_error,
                   "the head at " + head + " does not implement this request"};
  return std::move(reply->body);
}

}  // namespace troupe::cli
