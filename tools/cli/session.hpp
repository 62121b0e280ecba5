// One CLI invocation's link to the head: sends a request, waits for its reply, and turns
// every way of not getting the wanted reply into a failure value.
#pragma once

#include "messages/codec.hpp"
#include "tools/cli/config.hpp"
#include "tools/cli/result.hpp"

namespace troupe::cli {

class session {
 public:
  explicit session(cli_config config) : config_(std::move(config)) {}

  const cli_config& config() const { return config_; }

  // The reply's body. Fails with `unreachable` when no reply came in time, `head_error` when
  // the head answered with an error or does not implement the request, `usage` when the
  // head address cannot be used.
  result<msg::body> call(msg::body body) const;

  // As call(), and fails with `head_error` when the reply is not a `Reply`.
  template <class Reply>
  result<Reply> call_for(msg::body body) const {
    auto reply = call(std::move(body));
    if (!reply) return reply.error();
    if (auto* wanted = std::get_if<Reply>(&*reply)) return std::move(*wanted);
    return failure{exit_code::head_error, "unexpected reply kind from the head"};
  }

  // As call_for(), for a request of an area's message (e.g. msg::jobs_message) whose reply is
  // `Reply` inside the same area.
  template <class Reply, class Area>
  result<Reply> call_in(Area request) const {
    auto reply = call_for<Area>(std::move(request));
    if (!reply) return reply.error();
    if (auto* wanted = std::get_if<Reply>(&reply->body)) return std::move(*wanted);
    return failure{exit_code::head_error, "unexpected reply kind from the head"};
  }

 private:
  cli_config config_;
};

}  // namespace troupe::cli
