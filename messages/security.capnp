# The security area: enrolling nodes, join tokens, credentials and keys. Every link is
# ZeroMQ CURVE; the head admits only keys it knows, each with a role (docs/security.md).
# Each request names the roles that may send it; any other role is answered
# `permissionDenied`.
#
# Evolution rules as in envelope.capnp: append only, never renumber.
@0xbe12ef3a49d336a6;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

# What a key may do. Appended as later areas add roles.
enum KeyRole {
  admin @0;   # everything an operator does: drain, remove, keys, tokens
  node @1;    # register, heartbeat and deregister, only as the node id it enrolled with
  enroll @2;  # a join token's key: may only send EnrollNodeRequest, until it expires
  submit @3;  # submits, watches and cancels the jobs of the one tenant it is bound to
  rank @4;    # a training rank on its node's rank link, for the one task attempt its key was
              # made for; never a key of the head (docs/training.md)
}

struct SecurityMessage {
  union {
    enrollNodeRequest @0 :EnrollNodeRequest;
    enrollNodeReply @1 :EnrollNodeReply;
    createJoinTokenRequest @2 :CreateJoinTokenRequest;
    createJoinTokenReply @3 :CreateJoinTokenReply;
    createCredentialRequest @4 :CreateCredentialRequest;
    createCredentialReply @5 :CreateCredentialReply;
    keyListRequest @6 :KeyListRequest;
    keyListReply @7 :KeyListReply;
    revokeKeyRequest @8 :RevokeKeyRequest;
    revokeKeyReply @9 :RevokeKeyReply;
    createAppTokenRequest @10 :CreateAppTokenRequest;
    createAppTokenReply @11 :CreateAppTokenReply;
    appTokenListRequest @12 :AppTokenListRequest;
    appTokenListReply @13 :AppTokenListReply;
    revokeAppTokenRequest @14 :RevokeAppTokenRequest;
    revokeAppTokenReply @15 :RevokeAppTokenReply;
  }
}

# Role enroll. Binds `publicKey` to `nodeId` with the role node. Refused (`conflict`) when the
# node id already has a key that is not revoked.
struct EnrollNodeRequest {
  nodeId @0 :Text;     # 32 lowercase hex digits, the node's stable id
  publicKey @1 :Text;  # the node's CURVE public key, 40 characters of Z85
  name @2 :Text;       # the node's name, kept as the key's label
}

struct EnrollNodeReply {
  keyId @0 :Text;  # the new key's id
}

# Role admin. A new join token: a key pair of role enroll that expires after `ttlS`.
struct CreateJoinTokenRequest {
  ttlS @0 :UInt32;  # 1 .. 2592000 (30 days)
}

struct CreateJoinTokenReply {
  token @0 :Text;         # troupe1.<head public key, hex>.<enroll secret key, hex>
  keyId @1 :Text;         # the token's key id (revocable like any key)
  expiresAtMs @2 :Int64;  # Unix time in ms
}

# Role admin. Registers a key pair made by the requester (the secret key never travels).
struct CreateCredentialRequest {
  role @0 :KeyRole;    # admin or submit
  publicKey @1 :Text;  # 40 characters of Z85
  label @2 :Text;      # shown by `troupe keys ls`: 1 to 256 bytes of UTF-8, no control characters
  tenant @3 :Text;     # role submit: its tenant, 1 to 128 characters of [A-Za-z0-9._-];
                       # role admin: empty
}

struct CreateCredentialReply {
  keyId @0 :Text;
}

# Role admin.
struct KeyListRequest {}

struct KeyListReply {
  keys @0 :List(KeyInfo);  # by creation time
}

struct KeyInfo {
  keyId @0 :Text;         # 16 hex digits: the first 8 bytes of the public key
  role @1 :KeyRole;
  publicKey @2 :Text;
  label @3 :Text;
  nodeId @4 :Text;        # role node: the only node id the key may speak as
  createdAtMs @5 :Int64;  # Unix time in ms
  expiresAtMs @6 :Int64;  # 0: never
  revokedAtMs @7 :Int64;  # 0: not revoked
  tenant @8 :Text;        # role submit: the only tenant whose jobs the key may see; else empty
}

# Role admin. The key is refused from now on and its connections are closed.
struct RevokeKeyRequest {
  keyId @0 :Text;
}

struct RevokeKeyReply {
  key @0 :KeyInfo;
}

# Application tokens: HTTP bearer tokens of the head's inference endpoints (docs/http.md),
# distinct from CURVE keys. The head keeps only the SHA-256 of a token's secret.

# What an application token may call. Appended as later endpoints need more.
enum AppTokenRole {
  predict @0;  # infer, predict, model metadata and readiness, the model list
  manage @1;   # all of predict's, and reload
}

struct AppTokenInfo {
  name @0 :Text;            # 1 to 64 characters of [A-Za-z0-9._-], unique in the cluster
  role @1 :AppTokenRole;
  tenant @2 :Text;          # the only tenant whose services it may call; empty: every tenant
  rateLimitPerS @3 :UInt32; # requests per second, its bucket's refill; 0: unlimited
  burst @4 :UInt32;         # its bucket's size (with a rate limit: at least 1)
  createdAtMs @5 :Int64;    # Unix time in ms
  revokedAtMs @6 :Int64;    # 0: not revoked
}

# Role admin. Makes a token; its secret is in the reply only, never stored or shown again.
# Refused (`conflict`) when a token, revoked or not, has the name.
struct CreateAppTokenRequest {
  name @0 :Text;
  role @1 :AppTokenRole;
  tenant @2 :Text;          # empty, or 1 to 128 characters of [A-Za-z0-9._-]
  rateLimitPerS @3 :UInt32; # 0: unlimited
  burst @4 :UInt32;         # 0: the rate limit (one second's worth)
}

struct CreateAppTokenReply {
  token @0 :AppTokenInfo;
  secret @1 :Text;          # "troupe_" and 64 hex digits: the bearer token
}

# Role admin. Every token, by creation time, without secrets.
struct AppTokenListRequest {}

struct AppTokenListReply {
  tokens @0 :List(AppTokenInfo);
}

# Role admin. The token is refused (401) from now on.
struct RevokeAppTokenRequest {
  name @0 :Text;
}

struct RevokeAppTokenReply {
  token @0 :AppTokenInfo;
}
