// CURVE key pairs (ZeroMQ's Curve25519, written in Z85: 40 characters per 32-byte key), the
// ids Troupe gives them, and join tokens.
//
// A join token is `troupe1.<head public key>.<enroll secret key>`, both keys in hex (64 digits:
// safe to paste into a shell). It pins the head (the node checks the head's key, as kubeadm pins
// its CA) and carries the secret half of a key pair of role `enroll` that the head knows until
// the token expires. Anyone holding the token can enroll nodes until then: treat it as a secret.
#pragma once

#include <stdexcept>
#include <string>

namespace troupe::security {

struct security_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct key_pair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

key_pair generate_key_pair();
// The public half of a Z85 secret key; throws security_error when it is not one.
std::string public_key_of(const std::string& secret_key);
// 40 characters that Z85-decode to 32 bytes.
bool is_z85_key(const std::string& key);
// A key's id: the first 16 hex digits of the public key's bytes (public keys are random).
std::string key_id_of(const std::string& public_key);

struct join_token {
  std::string head_public_key;  // Z85
  key_pair enroll;              // Z85
};

std::string format_join_token(const std::string& head_public_key,
                              const std::string& enroll_secret_key);
// Throws security_error naming what is wrong (never echoing the secret).
join_token parse_join_token(const std::string& token);

}  // namespace troupe::security
