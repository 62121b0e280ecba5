#include "tools/cli/commands/security.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "cluster/security/curve_keys.hpp"
#include "cluster/security/key_registry.hpp"
#include "tools/cli/display_text.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

constexpr uint32_t max_ttl_s = 30 * 24 * 3600;

template <class Reply>
result<Reply> call_security(const session& s, msg::security_message request) {
  return s.call_in<Reply>(std::move(request));
}

std::string key_state(const msg::key_info& k) {
  if (k.revoked_at_ms) return "revoked";
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (k.expires_at_ms && now >= k.expires_at_ms) return "expired";
  return "active";
}

nlohmann::json to_json(const msg::key_info& k) {
  return {{"id", k.key_id},
          {"role", msg::to_string(k.role)},
          {"public_key", k.public_key},
          {"label", k.label},
          {"node_id", k.node_id},
          {"tenant", k.tenant},
          {"state", key_state(k)},
          {"created_at_ms", k.created_at_ms},
          {"expires_at_ms", k.expires_at_ms},
          {"revoked_at_ms", k.revoked_at_ms}};
}

}  // namespace

result<uint32_t> parse_ttl(const std::string& ttl) {
  const failure bad{exit_code::usage, "--ttl `" + msg::printable(ttl) +
                                          "`: give a number and a unit s, m, h or d (e.g. 1h), "
                                          "at most 30d"};
  if (ttl.size() < 2 || ttl.size() > 9) return bad;
  uint64_t number = 0;
  for (size_t i = 0; i + 1 < ttl.size(); ++i) {
    if (ttl[i] < '0' || ttl[i] > '9') return bad;
    number = number * 10 + static_cast<uint64_t>(ttl[i] - '0');
  }
  uint64_t unit = 0;
  switch (ttl.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return bad;
  }
  if (number == 0 || number * unit > max_ttl_s) return bad;
  return static_cast<uint32_t>(number * unit);
}

command_output create_join_token(const session& s, const std::string& ttl) {
  auto seconds = parse_ttl(ttl);
  if (!seconds) return seconds.error();
  auto reply =
      call_security<msg::create_join_token_reply>(s, {msg::create_join_token_request{*seconds}});
  if (!reply) return reply.error();
  if (s.config().json)
    return json_text({{"token", reply->token},
                      {"key_id", reply->key_id},
                      {"expires_at_ms", reply->expires_at_ms}});
  return "join token (key " + reply->key_id + ", valid until " + utc_time(reply->expires_at_ms) +
         "):\n  trouped --join " + msg::printable(s.config().head) + " --token " + reply->token +
         " --data-dir DIR\n";
}

command_output create_credential(const session& s, const std::string& role,
                                 const std::string& tenant, const std::string& label,
                                 const std::string& out_file) {
  msg::key_role parsed;
  try {
    parsed = security::parse_role(role);
  } catch (const security::security_error& e) {
    return failure{exit_code::usage, std::string("--role: ") + e.what()};
  }
  if (auto problem = security::tenant_problem(parsed, tenant))
    return failure{exit_code::usage, "--tenant: " + *problem};
  if (std::filesystem::exists(out_file))
    return failure{exit_code::usage,
                   "--out " + msg::printable(out_file) + " exists; not overwriting it"};
  auto c = security::new_credential(parsed, s.config().credential.head_public_key, s.config().head);
  auto reply = call_security<msg::create_credential_reply>(
      s, {msg::create_credential_request{parsed, c.keys.public_key, label, tenant}});
  if (!reply) return reply.error();
  try {
    security::save_credential(out_file, c);
  } catch (const security::security_error& e) {
    return failure{exit_code::usage, std::string(e.what()) + " (key " + reply->key_id +
                                         " is registered: revoke it with `troupe keys revoke " +
                                         reply->key_id + "`)"};
  }
  if (s.config().json)
    return json_text(
        {{"key_id", reply->key_id}, {"role", role}, {"tenant", tenant}, {"file", out_file}});
  return role + " key " + reply->key_id + (tenant.empty() ? "" : " for tenant " + tenant) +
         " written to " + msg::printable(out_file) +
         " (keep it secret; use it with --credentials or TROUPE_CREDENTIALS)\n";
}

command_output list_keys(const session& s) {
  auto reply = call_security<msg::key_list_reply>(s, {msg::key_list_request{}});
  if (!reply) return reply.error();
  if (s.config().json) {
    auto out = nlohmann::json::array();
    for (const auto& k : reply->keys) out.push_back(to_json(k));
    return json_text(out);
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "ROLE", "STATE", "LABEL", "NODE", "TENANT", "CREATED", "EXPIRES"}};
  auto cell = [](const std::string& text) { return text.empty() ? "-" : msg::printable(text); };
  for (const auto& k : reply->keys)
    rows.push_back({k.key_id, msg::to_string(k.role), key_state(k), msg::printable(k.label),
                    cell(k.node_id), cell(k.tenant), utc_time(k.created_at_ms),
                    utc_time(k.expires_at_ms)});
  return table(rows);
}

command_output revoke_key(const session& s, const std::string& key_id) {
  auto reply = call_security<msg::revoke_key_reply>(s, {msg::revoke_key_request{key_id}});
  if (!reply) return reply.error();
  if (s.config().json) return json_text(to_json(reply->key));
  return "key " + reply->key.key_id + " (" + msg::to_string(reply->key.role) + ", " +
         msg::printable(reply->key.label) + ") revoked; its connections are closed\n";
}

}  // namespace troupe::cli
