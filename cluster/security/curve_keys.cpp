#include "cluster/security/curve_keys.hpp"

#include <zmq.h>

#include <array>
#include <cstdint>
#include <cstdio>

namespace troupe::security {
namespace {

constexpr size_t z85_key_length = 40;
constexpr const char* token_prefix = "troupe1.";

using key_bytes = std::array<uint8_t, 32>;

bool decode_z85(const std::string& key, key_bytes& out) {
  return key.size() == z85_key_length && zmq_z85_decode(out.data(), key.c_str()) != nullptr;
}

std::string encode_z85(const key_bytes& bytes) {
  char text[z85_key_length + 1];
  zmq_z85_encode(text, bytes.data(), bytes.size());
  return text;
}

std::string to_hex(const uint8_t* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(const std::string& hex, key_bytes& out) {
  if (hex.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

key_pair generate_key_pair() {
  char public_key[z85_key_length + 1], secret_key[z85_key_length + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0)
    throw security_error("this libzmq cannot make CURVE keys (built without libsodium?)");
  return {public_key, secret_key};
}

std::string public_key_of(const std::string& secret_key) {
  key_bytes ignored;
  char public_key[z85_key_length + 1];
  if (!decode_z85(secret_key, ignored) || zmq_curve_public(public_key, secret_key.c_str()) != 0)
    throw security_error("not a CURVE secret key");
  return public_key;
}

bool is_z85_key(const std::string& key) {
  key_bytes bytes;
  return decode_z85(key, bytes);
}

std::string key_id_of(const std::string& public_key) {
  key_bytes bytes;
  if (!decode_z85(public_key, bytes)) throw security_error("not a CURVE public key");
  return to_hex(bytes.data(), 8);
}

std::string format_join_token(const std::string& head_public_key,
                              const std::string& enroll_secret_key) {
  key_bytes head, secret;
  if (!decode_z85(head_public_key, head) || !decode_z85(enroll_secret_key, secret))
    throw security_error("a join token needs two CURVE keys");
  return token_prefix + to_hex(head.data(), head.size()) + "." +
         to_hex(secret.data(), secret.size());
}

join_token parse_join_token(const std::string& token) {
  const std::string prefix = token_prefix;
  const size_t hex_length = 64;
  if (token.size() != prefix.size() + 2 * hex_length + 1 ||
      token.compare(0, prefix.size(), prefix) || token[prefix.size() + hex_length] != '.')
    throw security_error(
        "the join token is not one Troupe prints (troupe1.<64 hex digits>.<64 hex digits>)");
  key_bytes head, secret;
  if (!from_hex(token.substr(prefix.size(), hex_length), head) ||
      !from_hex(token.substr(prefix.size() + hex_length + 1), secret))
    throw security_error("the join token holds a character that is not a hex digit");
  join_token parsed;
  parsed.head_public_key = encode_z85(head);
  parsed.enroll.secret_key = encode_z85(secret);
  parsed.enroll.public_key = public_key_of(parsed.enroll.secret_key);
  return parsed;
}

}  // namespace troupe::security
