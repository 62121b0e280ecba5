#include "actors/security/security_actor.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "cluster/security/curve_keys.hpp"
#include "messages/safe_text.hpp"

namespace troupe::security_service {
namespace {

using actors::inbound;

constexpr uint32_t max_token_ttl_s = 30 * 24 * 3600;

bool is_node_id(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

msg::error invalid(std::string why) { return {msg::error_code::invalid_request, std::move(why)}; }

struct handler {
  security_deps& deps;
  const actors::sender_key& key;
  bool revoked_any = false;

  using result = std::variant<msg::security_message, msg::error>;

  result operator()(const msg::enroll_node_request& r) {
    if (key.role != msg::key_role::enroll)
      return msg::error{msg::error_code::permission_denied,
                        "only a join token's key may enroll a node"};
    if (!is_node_id(r.node_id)) return invalid("`nodeId` must be 32 lowercase hex digits");
    if (!security::is_z85_key(r.public_key))
      return invalid("`publicKey` must be 40 characters of Z85");
    if (r.name.empty() || !msg::is_node_text(r.name))
      return invalid(std::string("`name` must be ") + msg::node_text_rule);
    msg::key_info k;
    k.key_id = security::key_id_of(r.public_key);
    k.role = msg::key_role::node;
    k.public_key = r.public_key;
    k.label = r.name;
    k.node_id = r.node_id;
    k.created_at_ms = security::unix_now_ms();
    if (auto err = deps.keys->add(k, k.created_at_ms)) return *err;
    spdlog::info("enrolled node {} ({}) with key {} (join token key {})", msg::printable(r.name),
                 r.node_id, k.key_id, key.key_id);
    return msg::security_message{msg::enroll_node_reply{k.key_id}};
  }

  result operator()(const msg::create_join_token_request& r) {
    if (r.ttl_s < 1 || r.ttl_s > max_token_ttl_s)
      return invalid("`ttlS` must be 1 to " + std::to_string(max_token_ttl_s) + " seconds");
    auto pair = security::generate_key_pair();
    msg::key_info k;
    k.key_id = security::key_id_of(pair.public_key);
    k.role = msg::key_role::enroll;
    k.public_key = pair.public_key;
    k.label = "join token";
    k.created_at_ms = security::unix_now_ms();
    k.expires_at_ms = k.created_at_ms + int64_t{r.ttl_s} * 1000;
    if (auto err = deps.keys->add(k, k.created_at_ms)) return *err;
    spdlog::info("join token {} created by key {}, valid {} s", k.key_id, key.key_id, r.ttl_s);
    return msg::security_message{msg::create_join_token_reply{
        security::format_join_token(deps.head_public_key, pair.secret_key), k.key_id,
        k.expires_at_ms}};
  }

  result operator()(const msg::create_credential_request& r) {
    if (r.role != msg::key_role::admin && r.role != msg::key_role::submit)
      return invalid(
          "`role`: only admin and submit credentials can be created (nodes enroll with a join "
          "token)");
    if (!security::is_z85_key(r.public_key))
      return invalid("`publicKey` must be 40 characters of Z85");
    if (r.label.empty() || !msg::is_node_text(r.label))
      return invalid(std::string("`label` must be ") + msg::node_text_rule);
    if (auto problem = security::tenant_problem(r.role, r.tenant))
      return invalid("`tenant`: " + *problem);
    msg::key_info k;
    k.key_id = security::key_id_of(r.public_key);
    k.role = r.role;
    k.public_key = r.public_key;
    k.label = r.label;
    k.tenant = r.tenant;
    k.created_at_ms = security::unix_now_ms();
    if (auto err = deps.keys->add(k, k.created_at_ms)) return *err;
    spdlog::info("{} key {}{} created by key {}", msg::to_string(k.role), k.key_id,
                 k.tenant.empty() ? "" : " for tenant " + k.tenant, key.key_id);
    return msg::security_message{msg::create_credential_reply{k.key_id}};
  }

  result operator()(const msg::key_list_request&) {
    return msg::security_message{msg::key_list_reply{deps.keys->list()}};
  }

  result operator()(const msg::revoke_key_request& r) {
    auto revoked = deps.keys->revoke(r.key_id, security::unix_now_ms());
    if (auto* err = std::get_if<msg::error>(&revoked)) return *err;
    spdlog::info("key {} revoked by key {}", r.key_id, key.key_id);
    revoked_any = true;
    return msg::security_message{msg::revoke_key_reply{std::get<msg::key_info>(revoked)}};
  }

  result operator()(const msg::create_app_token_request& r) {
    if (auto problem = security::app_token_name_problem(r.name))
      return invalid("`name`: " + *problem);
    if (!r.tenant.empty() && !msg::is_tenant_name(r.tenant))
      return invalid(std::string("`tenant` must be empty or ") + msg::tenant_name_rule);
    if (r.burst && !r.rate_limit_per_s) return invalid("`burst` needs `rateLimitPerS`");
    store::app_token_record t;
    t.name = r.name;
    t.tenant = r.tenant;
    t.role = msg::to_string(r.role);
    const auto secret = security::new_app_token_secret();
    t.secret_sha256 = security::app_token_digest(secret);
    t.rate_limit_per_s = r.rate_limit_per_s;
    t.burst = r.burst ? r.burst : r.rate_limit_per_s;
    t.created_at_ms = security::unix_now_ms();
    if (!deps.store->tokens().create_token(t))
      return msg::error{msg::error_code::conflict, "a token named " + r.name + " exists"};
    deps.app_tokens->put(t, security::bucket_clock::now());
    spdlog::info("app token {} (role {}{}) created by key {}", t.name, t.role,
                 t.tenant.empty() ? "" : ", tenant " + t.tenant, key.key_id);
    return msg::security_message{msg::create_app_token_reply{security::to_info(t), secret}};
  }

  result operator()(const msg::app_token_list_request&) {
    msg::app_token_list_reply reply;
    for (const auto& t : deps.store->tokens().load_tokens())
      reply.tokens.push_back(security::to_info(t));
    return msg::security_message{std::move(reply)};
  }

  result operator()(const msg::revoke_app_token_request& r) {
    auto revoked = deps.store->tokens().revoke_token(r.name, security::unix_now_ms());
    if (!revoked)
      return msg::error{msg::error_code::not_found, "no token is named " + msg::printable(r.name)};
    deps.app_tokens->put(*revoked, security::bucket_clock::now());
    spdlog::info("app token {} revoked by key {}", revoked->name, key.key_id);
    return msg::security_message{msg::revoke_app_token_reply{security::to_info(*revoked)}};
  }

  template <class Reply>
  result operator()(const Reply&) {
    return invalid("a reply is not a request");
  }
};

// Returns whether a key was revoked.
bool on_request(security_deps& deps, const inbound& in) {
  const auto& request = std::get<msg::security_message>(in.env.body);
  handler::result result = msg::error{msg::error_code::internal, "no sender key"};
  bool revoked = false;
  if (in.sender) {
    const bool enrolling = std::holds_alternative<msg::enroll_node_request>(request.body);
    if (!enrolling && in.sender->role != msg::key_role::admin) {
      result = msg::error{msg::error_code::permission_denied, "this request needs an admin key"};
    } else {
      try {
        handler h{deps, *in.sender};
        result = std::visit(h, request.body);
        revoked = h.revoked_any;
      } catch (const security::security_error& e) {
        spdlog::error("key registry: {}", e.what());
        result = msg::error{msg::error_code::unavailable, "the key registry could not be written"};
      } catch (const store::store_error& e) {
        spdlog::error("app tokens: {}", e.what());
        result = msg::error{msg::error_code::unavailable, "the store could not be reached"};
      }
    }
  }
  msg::body reply =
      std::visit([](auto&& v) -> msg::body { return std::move(v); }, std::move(result));
  deps.endpoint->send(in.peer, msg::reply_to(in.env, deps.self_name, std::move(reply)));
  return revoked;
}

}  // namespace

struct security_state {
  static inline const char* name = "security";
  security_deps deps;
};

using drop_atom = caf::atom_constant<caf::atom("drop")>;

// Connections close a moment after the reply to the revocation was queued: closing them at once
// could cut the reply off on its way to the admin who asked.
constexpr auto drop_delay = std::chrono::milliseconds(100);

caf::behavior security(caf::stateful_actor<security_state>* self, security_deps deps) {
  self->state.deps = std::move(deps);
  return {
      [self](const inbound& in) {
        if (on_request(self->state.deps, in))
          self->delayed_send(self, drop_delay, drop_atom::value);
      },
      [self](drop_atom) { self->state.deps.endpoint->drop_connections(); },
  };
}

caf::actor spawn_security(caf::actor_system& system, security_deps deps) {
  return system.spawn<caf::detached>(security, std::move(deps));
}

}  // namespace troupe::security_service
