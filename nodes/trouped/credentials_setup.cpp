#include "nodes/trouped/credentials_setup.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cluster/host/atomic_file.hpp"
#include "cluster/security/enrollment.hpp"

namespace troupe::nodes {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The first join token of a head; `troupe join-token create` makes others.
constexpr int64_t initial_token_ttl_ms = 24 * 3600 * 1000;
// How long a joining node waits for the head to answer its enrollment.
constexpr std::chrono::milliseconds enrollment_timeout = 15s;

security::key_pair load_or_make_head_keys(const std::string& path) {
  if (fs::exists(path)) {
    // Same rules as a credential file: owner-only, a secret key that matches the public one.
    auto c = security::load_credential(path);
    return c.keys;
  }
  // The role is unused: the head's own key pair is not in the registry.
  auto c = security::new_credential(msg::key_role::admin, "", "");
  c.head_public_key = c.keys.public_key;
  security::save_credential(path, c);
  spdlog::info("made the head's key pair ({})", path);
  return c.keys;
}

msg::key_info new_key(const security::key_pair& pair, msg::key_role role, std::string label,
                      std::string node_id = {}) {
  msg::key_info k;
  k.key_id = security::key_id_of(pair.public_key);
  k.role = role;
  k.public_key = pair.public_key;
  k.label = std::move(label);
  k.node_id = std::move(node_id);
  k.created_at_ms = security::unix_now_ms();
  return k;
}

void add_or_fail(security::key_registry& keys, const msg::key_info& k) {
  if (auto err = keys.add(k, security::unix_now_ms())) throw setup_error(err->message);
}

}  // namespace

// The admin credential for a CLI on this machine. A revoked one stays revoked: delete the file
// and restart the head to get a new one.
void write_admin_credential(head_security& head, const std::string& dir,
                            const std::string& head_address) {
  const auto path = dir + "/admin.credentials";
  head.admin_credentials_file = path;
  if (fs::exists(path)) {
    // Refuses a damaged or unprotected file at start; follows the head to a new address.
    auto c = security::load_credential(path);
    if (c.head_address != head_address) {
      c.head_address = head_address;
      security::save_credential(path, c);
    }
    return;
  }
  auto c = security::new_credential(msg::key_role::admin, head.head_keys.public_key, head_address);
  add_or_fail(*head.keys, new_key(c.keys, c.role, "admin on the head machine"));
  security::save_credential(path, c);
  spdlog::info("made an admin credential for the CLI: {}", path);
}

namespace {

// Keeps a usable join token in the data dir: the one there, or a new one valid 24 h.
void ensure_join_token(head_security& head, const std::string& dir) {
  head.join_token_file = dir + "/join-token";
  const auto now = security::unix_now_ms();
  if (fs::exists(head.join_token_file)) {
    try {
      auto text = host::read_whole_file(head.join_token_file);
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      auto token = security::parse_join_token(text);
      if (token.head_public_key == head.head_keys.public_key &&
          head.keys->admit(token.enroll.public_key, now + 60'000)) {
        head.join_token = text;
        return;
      }
    } catch (const std::exception& e) {
      spdlog::warn("replacing the join token file: {}", e.what());
    }
  }
  auto pair = security::generate_key_pair();
  auto k = new_key(pair, msg::key_role::enroll, "join token (made at head start)");
  k.expires_at_ms = now + initial_token_ttl_ms;
  add_or_fail(*head.keys, k);
  head.join_token = security::format_join_token(head.head_keys.public_key, pair.secret_key);
  host::write_file_atomically(head.join_token_file, head.join_token + "\n", 0600);
  spdlog::info("made a join token valid 24 h (key {}): {}", k.key_id, head.join_token_file);
}

}  // namespace

head_security prepare_head_security(const std::string& data_dir) {
  head_security head;
  head.head_keys = load_or_make_head_keys(data_dir + "/head.key");
  head.keys = std::make_shared<security::key_registry>(data_dir + "/keys.jsonl");
  ensure_join_token(head, data_dir);
  return head;
}

security::credential head_node_credential(const head_security& head, const std::string& data_dir,
                                          const std::string& node_id, const std::string& name,
                                          const std::string& head_address) {
  const auto path = data_dir + "/node.key";
  const auto now = security::unix_now_ms();
  if (fs::exists(path)) {
    auto c = security::load_credential(path);
    if (head.keys->usable(c.key_id, now)) return c;
  }
  // First start, or the key was revoked: a new key replaces every other key of this node.
  for (const auto& k : head.keys->list())
    if (k.role == msg::key_role::node && k.node_id == node_id && k.revoked_at_ms == 0)
      head.keys->revoke(k.key_id, now);
  auto c = security::new_credential(msg::key_role::node, head.head_keys.public_key, head_address);
  add_or_fail(*head.keys, new_key(c.keys, c.role, name, node_id));
  security::save_credential(path, c);
  return c;
}

security::credential node_credential(const std::string& data_dir, const std::string& join_token,
                                     const std::string& head_address, const std::string& node_id,
                                     const std::string& name) {
  const auto path = data_dir + "/node.key";
  if (fs::exists(path)) {
    if (!join_token.empty()) spdlog::info("this node is enrolled already; --token is not needed");
    return security::load_credential(path);
  }
  if (join_token.empty())
    throw setup_error(
        "this node has not joined yet: give --token TOKEN (the head prints one at start and keeps "
        "it in its data dir as join-token; `troupe join-token create` makes another)");
  security::join_token token;
  try {
    token = security::parse_join_token(join_token);
  } catch (const security::security_error& e) {
    throw setup_error(std::string("--token: ") + e.what());
  }
  auto c = security::new_credential(msg::key_role::node, token.head_public_key, head_address);
  spdlog::info("enrolling with the head at {} (key {})", head_address, c.key_id);
  security::enroll_node(head_address, token, node_id, c.keys.public_key, name, enrollment_timeout);
  security::save_credential(path, c);
  spdlog::info("enrolled as key {}; this node no longer needs the join token", c.key_id);
  return c;
}

}  // namespace troupe::nodes
