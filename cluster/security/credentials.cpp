#include "cluster/security/credentials.hpp"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cluster/host/atomic_file.hpp"

namespace troupe::security {

msg::key_role parse_role(const std::string& name) {
  for (auto role : {msg::key_role::admin, msg::key_role::node, msg::key_role::enroll,
                    msg::key_role::submit, msg::key_role::rank})
    if (name == msg::to_string(role)) return role;
  throw security_error("unknown role `" + name + "` (admin, node, enroll, submit or rank)");
}

transport::curve_keys client_keys(const credential& c) {
  return {c.keys.public_key, c.keys.secret_key, c.head_public_key};
}

transport::curve_keys client_keys(const join_token& token) {
  return {token.enroll.public_key, token.enroll.secret_key, token.head_public_key};
}

credential new_credential(msg::key_role role, std::string head_public_key,
                          std::string head_address) {
  credential c;
  c.role = role;
  c.keys = generate_key_pair();
  c.key_id = key_id_of(c.keys.public_key);
  c.head_public_key = std::move(head_public_key);
  c.head_address = std::move(head_address);
  return c;
}

void save_credential(const std::string& path, const credential& c) {
  nlohmann::json j = {{"role", msg::to_string(c.role)},       {"key_id", c.key_id},
                      {"public_key", c.keys.public_key},      {"secret_key", c.keys.secret_key},
                      {"head_public_key", c.head_public_key}, {"head_address", c.head_address}};
  try {
    host::write_file_atomically(path, j.dump(2) + "\n", 0600);
  } catch (const host::file_error& e) {
    throw security_error(e.what());
  }
}

credential load_credential(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw security_error("credentials " + path + ": no such file");
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    throw security_error("credentials " + path + " may be read by other users: `chmod 600 " + path +
                         "` first");
  std::string text;
  try {
    text = host::read_whole_file(path);
  } catch (const host::file_error& e) {
    throw security_error(e.what());
  }
  auto fail = [&](const std::string& why) {
    return security_error("credentials " + path + ": " + why);
  };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) throw fail("not a JSON object");
  auto field = [&](const char* name, bool required = true) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) {
      if (required) throw fail(std::string("`") + name + "` is missing or not a string");
      return std::string();
    }
    return it->get<std::string>();
  };
  credential c;
  try {
    c.role = parse_role(field("role"));
  } catch (const security_error& e) {
    throw fail(e.what());
  }
  c.keys.public_key = field("public_key");
  c.keys.secret_key = field("secret_key");
  c.head_public_key = field("head_public_key");
  c.head_address = field("head_address", false);
  if (!is_z85_key(c.keys.public_key) || !is_z85_key(c.head_public_key))
    throw fail("a public key is not 40 characters of Z85");
  std::string derived;
  try {
    derived = public_key_of(c.keys.secret_key);
  } catch (const security_error&) {
    throw fail("`secret_key` is not a CURVE secret key");
  }
  if (derived != c.keys.public_key) throw fail("`secret_key` does not belong to `public_key`");
  c.key_id = key_id_of(c.keys.public_key);
  return c;
}

}  // namespace troupe::security
