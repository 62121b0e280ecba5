#include "tools/cli/commands/tokens.hpp"

#include "tools/cli/display_text.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

nlohmann::json to_json(const msg::app_token_info& t) {
  return {{"name", t.name},
          {"role", msg::to_string(t.role)},
          {"tenant", t.tenant},
          {"rate_limit_per_s", t.rate_limit_per_s},
          {"burst", t.burst},
          {"state", t.revoked_at_ms ? "revoked" : "active"},
          {"created_at_ms", t.created_at_ms},
          {"revoked_at_ms", t.revoked_at_ms}};
}

std::string limit_text(const msg::app_token_info& t) {
  if (!t.rate_limit_per_s) return "unlimited";
  return std::to_string(t.rate_limit_per_s) + "/s, burst " + std::to_string(t.burst);
}

}  // namespace

command_output create_app_token(const session& s, const token_create_options& o) {
  const auto role = msg::parse_app_token_role(o.role);
  if (!role) return failure{exit_code::usage, "--role: predict or manage"};
  if (o.burst && !o.rate_limit_per_s)
    return failure{exit_code::usage, "--burst needs --rate-limit-per-s"};
  auto reply = s.call_in<msg::create_app_token_reply>(msg::security_message{
      msg::create_app_token_request{o.name, *role, o.tenant, o.rate_limit_per_s, o.burst}});
  if (!reply) return reply.error();
  if (s.config().json) {
    auto out = to_json(reply->token);
    out["token"] = reply->secret;
    return json_text(out);
  }
  return "app token " + msg::printable(reply->token.name) + " (role " +
         msg::to_string(reply->token.role) + ", " + limit_text(reply->token) +
         "); shown only now, keep it secret:\n" + reply->secret + "\n";
}

command_output list_app_tokens(const session& s) {
  auto reply =
      s.call_in<msg::app_token_list_reply>(msg::security_message{msg::app_token_list_request{}});
  if (!reply) return reply.error();
  if (s.config().json) {
    auto out = nlohmann::json::array();
    for (const auto& t : reply->tokens) out.push_back(to_json(t));
    return json_text(out);
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "ROLE", "STATE", "TENANT", "RATE LIMIT", "CREATED"}};
  for (const auto& t : reply->tokens)
    rows.push_back({msg::printable(t.name), msg::to_string(t.role),
                    t.revoked_at_ms ? "revoked" : "active",
                    t.tenant.empty() ? "-" : msg::printable(t.tenant), limit_text(t),
                    utc_time(t.created_at_ms)});
  return table(rows);
}

command_output revoke_app_token(const session& s, const std::string& name) {
  auto reply = s.call_in<msg::revoke_app_token_reply>(
      msg::security_message{msg::revoke_app_token_request{name}});
  if (!reply) return reply.error();
  if (s.config().json) return json_text(to_json(reply->token));
  return "app token " + msg::printable(reply->token.name) + " revoked\n";
}

}  // namespace troupe::cli
