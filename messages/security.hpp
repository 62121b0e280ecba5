// Plain C++ mirrors of messages/security.capnp. Only the codec converts these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace troupe::msg {

enum class key_role { admin, node, enroll, submit, rank };

struct enroll_node_request {
  std::string node_id;
  std::string public_key;
  std::string name;
  bool operator==(const enroll_node_request& o) const {
    return node_id == o.node_id && public_key == o.public_key && name == o.name;
  }
};

struct enroll_node_reply {
  std::string key_id;
  bool operator==(const enroll_node_reply& o) const { return key_id == o.key_id; }
};

struct create_join_token_request {
  uint32_t ttl_s = 3600;
  bool operator==(const create_join_token_request& o) const { return ttl_s == o.ttl_s; }
};

struct create_join_token_reply {
  std::string token;
  std::string key_id;
  int64_t expires_at_ms = 0;
  bool operator==(const create_join_token_reply& o) const {
    return token == o.token && key_id == o.key_id && expires_at_ms == o.expires_at_ms;
  }
};

struct create_credential_request {
  key_role role = key_role::admin;
  std::string public_key;
  std::string label;
  std::string tenant;  // role submit only
  bool operator==(const create_credential_request& o) const {
    return role == o.role && public_key == o.public_key && label == o.label && tenant == o.tenant;
  }
};

struct create_credential_reply {
  std::string key_id;
  bool operator==(const create_credential_reply& o) const { return key_id == o.key_id; }
};

struct key_list_request {
  bool operator==(const key_list_request&) const { return true; }
};

struct key_info {
  std::string key_id;
  key_role role = key_role::admin;
  std::string public_key;
  std::string label;
  std::string node_id;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // 0: never
  int64_t revoked_at_ms = 0;  // 0: not revoked
  std::string tenant;         // role submit: the only tenant whose jobs it may see
  bool operator==(const key_info& o) const {
    return key_id == o.key_id && role == o.role && public_key == o.public_key && label == o.label &&
           node_id == o.node_id && created_at_ms == o.created_at_ms &&
           expires_at_ms == o.expires_at_ms && revoked_at_ms == o.revoked_at_ms &&
           tenant == o.tenant;
  }
};

struct key_list_reply {
  std::vector<key_info> keys;
  bool operator==(const key_list_reply& o) const { return keys == o.keys; }
};

struct revoke_key_request {
  std::string key_id;
  bool operator==(const revoke_key_request& o) const { return key_id == o.key_id; }
};

struct revoke_key_reply {
  key_info key;
  bool operator==(const revoke_key_reply& o) const { return key == o.key; }
};

enum class app_token_role { predict, manage };

struct app_token_info {
  std::string name;
  app_token_role role = app_token_role::predict;
  std::string tenant;             // empty: every tenant
  uint32_t rate_limit_per_s = 0;  // 0: unlimited
  uint32_t burst = 0;
  int64_t created_at_ms = 0;
  int64_t revoked_at_ms = 0;  // 0: not revoked
  bool operator==(const app_token_info& o) const {
    return name == o.name && role == o.role && tenant == o.tenant &&
           rate_limit_per_s == o.rate_limit_per_s && burst == o.burst &&
           created_at_ms == o.created_at_ms && revoked_at_ms == o.revoked_at_ms;
  }
};

struct create_app_token_request {
  std::string name;
  app_token_role role = app_token_role::predict;
  std::string tenant;
  uint32_t rate_limit_per_s = 0;
  uint32_t burst = 0;  // 0: the rate limit
  bool operator==(const create_app_token_request& o) const {
    return name == o.name && role == o.role && tenant == o.tenant &&
           rate_limit_per_s == o.rate_limit_per_s && burst == o.burst;
  }
};

struct create_app_token_reply {
  app_token_info token;
  std::string secret;  // the bearer token, shown once
  bool operator==(const create_app_token_reply& o) const {
    return token == o.token && secret == o.secret;
  }
};

struct app_token_list_request {
  bool operator==(const app_token_list_request&) const { return true; }
};

struct app_token_list_reply {
  std::vector<app_token_info> tokens;
  bool operator==(const app_token_list_reply& o) const { return tokens == o.tokens; }
};

struct revoke_app_token_request {
  std::string name;
  bool operator==(const revoke_app_token_request& o) const { return name == o.name; }
};

struct revoke_app_token_reply {
  app_token_info token;
  bool operator==(const revoke_app_token_reply& o) const { return token == o.token; }
};

// One member of the envelope's body: the whole security area.
struct security_message {
  std::variant<enroll_node_request, enroll_node_reply, create_join_token_request,
               create_join_token_reply, create_credential_request, create_credential_reply,
               key_list_request, key_list_reply, revoke_key_request, revoke_key_reply,
               create_app_token_request, create_app_token_reply, app_token_list_request,
               app_token_list_reply, revoke_app_token_request, revoke_app_token_reply>
      body;
  bool operator==(const security_message& o) const { return body == o.body; }
};

const char* to_string(key_role role);
const char* to_string(app_token_role role);
std::optional<app_token_role> parse_app_token_role(const std::string& text);

}  // namespace troupe::msg
