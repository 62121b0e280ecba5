#include "messages/security_codec.hpp"

#include "messages/codec_parts.hpp"

namespace troupe::msg::security_codec {
namespace {

using namespace parts;
using Which = wire::SecurityMessage;

void put_key(wire::KeyInfo::Builder b, const key_info& v) {
  b.setKeyId(text(v.key_id));
  b.setRole(cast_enum<wire::KeyRole>(v.role));
  b.setPublicKey(text(v.public_key));
  b.setLabel(text(v.label));
  b.setNodeId(text(v.node_id));
  b.setCreatedAtMs(v.created_at_ms);
  b.setExpiresAtMs(v.expires_at_ms);
  b.setRevokedAtMs(v.revoked_at_ms);
  b.setTenant(text(v.tenant));
}

key_info get_key(wire::KeyInfo::Reader r) {
  key_info v;
  v.key_id = str(r.getKeyId());
  v.role = checked_enum(r.getRole(), key_role::rank);
  v.public_key = str(r.getPublicKey());
  v.label = str(r.getLabel());
  v.node_id = str(r.getNodeId());
  v.created_at_ms = r.getCreatedAtMs();
  v.expires_at_ms = r.getExpiresAtMs();
  v.revoked_at_ms = r.getRevokedAtMs();
  v.tenant = str(r.getTenant());
  return v;
}

void put_app_token(wire::AppTokenInfo::Builder b, const app_token_info& v) {
  b.setName(text(v.name));
  b.setRole(cast_enum<wire::AppTokenRole>(v.role));
  b.setTenant(text(v.tenant));
  b.setRateLimitPerS(v.rate_limit_per_s);
  b.setBurst(v.burst);
  b.setCreatedAtMs(v.created_at_ms);
  b.setRevokedAtMs(v.revoked_at_ms);
}

app_token_info get_app_token(wire::AppTokenInfo::Reader r) {
  return {str(r.getName()),   checked_enum(r.getRole(), app_token_role::manage),
          str(r.getTenant()), r.getRateLimitPerS(),
          r.getBurst(),       r.getCreatedAtMs(),
          r.getRevokedAtMs()};
}

struct encoder {
  wire::SecurityMessage::Builder b;

  void operator()(const enroll_node_request& v) {
    auto r = b.initEnrollNodeRequest();
    r.setNodeId(text(v.node_id));
    r.setPublicKey(text(v.public_key));
    r.setName(text(v.name));
  }
  void operator()(const enroll_node_reply& v) { b.initEnrollNodeReply().setKeyId(text(v.key_id)); }
  void operator()(const create_join_token_request& v) {
    b.initCreateJoinTokenRequest().setTtlS(v.ttl_s);
  }
  void operator()(const create_join_token_reply& v) {
    auto r = b.initCreateJoinTokenReply();
    r.setToken(text(v.token));
    r.setKeyId(text(v.key_id));
    r.setExpiresAtMs(v.expires_at_ms);
  }
  void operator()(const create_credential_request& v) {
    auto r = b.initCreateCredentialRequest();
    r.setRole(cast_enum<wire::KeyRole>(v.role));
    r.setPublicKey(text(v.public_key));
    r.setLabel(text(v.label));
    r.setTenant(text(v.tenant));
  }
  void operator()(const create_credential_reply& v) {
    b.initCreateCredentialReply().setKeyId(text(v.key_id));
  }
  void operator()(const key_list_request&) { b.initKeyListRequest(); }
  void operator()(const key_list_reply& v) {
    auto keys = b.initKeyListReply().initKeys(static_cast<unsigned>(v.keys.size()));
    for (unsigned i = 0; i < v.keys.size(); ++i) put_key(keys[i], v.keys[i]);
  }
  void operator()(const revoke_key_request& v) {
    b.initRevokeKeyRequest().setKeyId(text(v.key_id));
  }
  void operator()(const revoke_key_reply& v) { put_key(b.initRevokeKeyReply().initKey(), v.key); }
  void operator()(const create_app_token_request& v) {
    auto r = b.initCreateAppTokenRequest();
    r.setName(text(v.name));
    r.setRole(cast_enum<wire::AppTokenRole>(v.role));
    r.setTenant(text(v.tenant));
    r.setRateLimitPerS(v.rate_limit_per_s);
    r.setBurst(v.burst);
  }
  void operator()(const create_app_token_reply& v) {
    auto r = b.initCreateAppTokenReply();
    put_app_token(r.initToken(), v.token);
    r.setSecret(text(v.secret));
  }
  void operator()(const app_token_list_request&) { b.initAppTokenListRequest(); }
  void operator()(const app_token_list_reply& v) {
    auto tokens = b.initAppTokenListReply().initTokens(static_cast<unsigned>(v.tokens.size()));
    for (unsigned i = 0; i < v.tokens.size(); ++i) put_app_token(tokens[i], v.tokens[i]);
  }
  void operator()(const revoke_app_token_request& v) {
    b.initRevokeAppTokenRequest().setName(text(v.name));
  }
  void operator()(const revoke_app_token_reply& v) {
    put_app_token(b.initRevokeAppTokenReply().initToken(), v.token);
  }
};

}  // namespace

void put(wire::SecurityMessage::Builder b, const security_message& m) {
  std::visit(encoder{b}, m.body);
}

std::optional<security_message> get(wire::SecurityMessage::Reader r) {
  switch (r.which()) {
    case Which::ENROLL_NODE_REQUEST: {
      auto e = r.getEnrollNodeRequest();
      return security_message{
          enroll_node_request{str(e.getNodeId()), str(e.getPublicKey()), str(e.getName())}};
    }
    case Which::ENROLL_NODE_REPLY:
      return security_message{enroll_node_reply{str(r.getEnrollNodeReply().getKeyId())}};
    case Which::CREATE_JOIN_TOKEN_REQUEST:
      return security_message{create_join_token_request{r.getCreateJoinTokenRequest().getTtlS()}};
    case Which::CREATE_JOIN_TOKEN_REPLY: {
      auto t = r.getCreateJoinTokenReply();
      return security_message{
          create_join_token_reply{str(t.getToken()), str(t.getKeyId()), t.getExpiresAtMs()}};
    }
    case Which::CREATE_CREDENTIAL_REQUEST: {
      auto c = r.getCreateCredentialRequest();
      return security_message{create_credential_request{checked_enum(c.getRole(), key_role::rank),
                                                        str(c.getPublicKey()), str(c.getLabel()),
                                                        str(c.getTenant())}};
    }
    case Which::CREATE_CREDENTIAL_REPLY:
      return security_message{
          create_credential_reply{str(r.getCreateCredentialReply().getKeyId())}};
    case Which::KEY_LIST_REQUEST: return security_message{key_list_request{}};
    case Which::KEY_LIST_REPLY: {
      key_list_reply v;
      for (auto k : r.getKeyListReply().getKeys()) v.keys.push_back(get_key(k));
      return security_message{std::move(v)};
    }
    case Which::REVOKE_KEY_REQUEST:
      return security_message{revoke_key_request{str(r.getRevokeKeyRequest().getKeyId())}};
    case Which::REVOKE_KEY_REPLY:
      return security_message{revoke_key_reply{get_key(r.getRevokeKeyReply().getKey())}};
    case Which::CREATE_APP_TOKEN_REQUEST: {
      auto c = r.getCreateAppTokenRequest();
      return security_message{create_app_token_request{
          str(c.getName()), checked_enum(c.getRole(), app_token_role::manage), str(c.getTenant()),
          c.getRateLimitPerS(), c.getBurst()}};
    }
    case Which::CREATE_APP_TOKEN_REPLY: {
      auto c = r.getCreateAppTokenReply();
      return security_message{
          create_app_token_reply{get_app_token(c.getToken()), str(c.getSecret())}};
    }
    case Which::APP_TOKEN_LIST_REQUEST: return security_message{app_token_list_request{}};
    case Which::APP_TOKEN_LIST_REPLY: {
      app_token_list_reply v;
      for (auto t : r.getAppTokenListReply().getTokens()) v.tokens.push_back(get_app_token(t));
      return security_message{std::move(v)};
    }
    case Which::REVOKE_APP_TOKEN_REQUEST:
      return security_message{
          revoke_app_token_request{str(r.getRevokeAppTokenRequest().getName())}};
    case Which::REVOKE_APP_TOKEN_REPLY:
      return security_message{
          revoke_app_token_reply{get_app_token(r.getRevokeAppTokenReply().getToken())}};
  }
  return std::nullopt;
}

}  // namespace troupe::msg::security_codec
