#include "cluster/security/key_registry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cluster/host/atomic_file.hpp"
#include "cluster/security/credentials.hpp"
#include "messages/safe_text.hpp"

namespace troupe::security {
namespace {

bool usable_at(const msg::key_info& k, int64_t now_ms) {
  return k.revoked_at_ms == 0 && (k.expires_at_ms == 0 || now_ms < k.expires_at_ms);
}

nlohmann::json to_json(const msg::key_info& k) {
  return {{"id", k.key_id},
          {"role", msg::to_string(k.role)},
          {"public_key", k.public_key},
          {"label", k.label},
          {"node_id", k.node_id},
          {"created_at_ms", k.created_at_ms},
          {"expires_at_ms", k.expires_at_ms},
          {"revoked_at_ms", k.revoked_at_ms},
          {"tenant", k.tenant}};
}

msg::key_info from_json(const nlohmann::json& j) {
  msg::key_info k;
  k.key_id = j.at("id").get<std::string>();
  k.role = parse_role(j.at("role").get<std::string>());
  k.public_key = j.at("public_key").get<std::string>();
  k.label = j.at("label").get<std::string>();
  k.node_id = j.at("node_id").get<std::string>();
  k.created_at_ms = j.at("created_at_ms").get<int64_t>();
  k.expires_at_ms = j.at("expires_at_ms").get<int64_t>();
  k.revoked_at_ms = j.at("revoked_at_ms").get<int64_t>();
  k.tenant = j.value("tenant", "");
  if (!is_z85_key(k.public_key) || key_id_of(k.public_key) != k.key_id)
    throw security_error("key " + k.key_id + " does not match its public key");
  if (auto problem = tenant_problem(k.role, k.tenant))
    throw security_error("key " + k.key_id + ": " + *problem);
  return k;
}

}  // namespace

std::optional<std::string> tenant_problem(msg::key_role role, const std::string& tenant) {
  if (role == msg::key_role::submit) {
    if (msg::is_tenant_name(tenant)) return std::nullopt;
    return std::string("a submit key is bound to one tenant: ") + msg::tenant_name_rule;
  }
  if (tenant.empty()) return std::nullopt;
  return std::string("only a submit key has a tenant, not a key of role ") + msg::to_string(role);
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

key_registry::key_registry(std::string path) : path_(std::move(path)) {
  if (std::filesystem::exists(path_)) {
    size_t line_number = 0;
    try {
      std::istringstream lines(host::read_whole_file(path_));
      std::string line;
      while (std::getline(lines, line)) {
        ++line_number;
        auto j = nlohmann::json::parse(line, nullptr, false);
        // A crash can leave the last append cut short: that change was never acknowledged.
        if (j.is_discarded() && lines.peek() == EOF) break;
        const auto op = j.at("op").get<std::string>();
        if (op == "add") {
          auto key = from_json(j.at("key"));
          by_id_[key.key_id] = key;
        } else if (op == "revoke") {
          by_id_.at(j.at("id").get<std::string>()).revoked_at_ms = j.at("at").get<int64_t>();
        } else {
          throw security_error("unknown operation " + op);
        }
      }
    } catch (const std::exception& e) {
      throw security_error("key registry " + path_ + " is corrupt at line " +
                           std::to_string(line_number) + ": " + e.what());
    }
  }
  compact();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw security_error("cannot open " + path_ + ": " + std::strerror(errno));
}

key_registry::~key_registry() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<msg::key_info> key_registry::admit(const std::string& public_key,
                                                 int64_t now_ms) const {
  if (!is_z85_key(public_key)) return std::nullopt;
  return usable(key_id_of(public_key), now_ms);
}

std::optional<msg::key_info> key_registry::usable(const std::string& key_id, int64_t now_ms) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = by_id_.find(key_id);
  if (it == by_id_.end() || !usable_at(it->second, now_ms)) return std::nullopt;
  return it->second;
}

std::optional<msg::error> key_registry::add(const msg::key_info& key, int64_t now_ms) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (by_id_.count(key.key_id))
    return msg::error{msg::error_code::conflict, "key " + key.key_id + " is already known"};
  if (key.role == msg::key_role::node) {
    for (const auto& [id, other] : by_id_) {
      if (other.role == msg::key_role::node && other.node_id == key.node_id &&
          usable_at(other, now_ms))
        return msg::error{msg::error_code::conflict,
                          "node id " + key.node_id + " is already enrolled with key " + id +
                              "; revoke it first (troupe keys revoke " + id + ")"};
    }
  }
  append(nlohmann::json{{"op", "add"}, {"key", to_json(key)}}.dump());
  by_id_[key.key_id] = key;
  return std::nullopt;
}

std::variant<msg::key_info, msg::error> key_registry::revoke(const std::string& key_id,
                                                             int64_t now_ms) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = by_id_.find(key_id);
  if (it == by_id_.end()) return msg::error{msg::error_code::not_found, "no key " + key_id};
  if (it->second.revoked_at_ms != 0) return it->second;  // revoking twice changes nothing
  append(nlohmann::json{{"op", "revoke"}, {"id", key_id}, {"at", now_ms}}.dump());
  it->second.revoked_at_ms = now_ms;
  return it->second;
}

std::vector<msg::key_info> key_registry::list() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<msg::key_info> keys;
  for (const auto& [id, key] : by_id_) keys.push_back(key);
  std::stable_sort(keys.begin(), keys.end(),
                   [](const auto& a, const auto& b) { return a.created_at_ms < b.created_at_ms; });
  return keys;
}

void key_registry::append(const std::string& line) {
  const auto text = line + "\n";
  if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fdatasync(fd_) != 0)
    throw security_error("cannot write " + path_ + ": " + std::strerror(errno));
}

void key_registry::compact() const {
  std::string text;
  for (const auto& [id, key] : by_id_)
    text += nlohmann::json{{"op", "add"}, {"key", to_json(key)}}.dump() + "\n";
  try {
    host::write_file_atomically(path_, text, 0600);
  } catch (const host::file_error& e) {
    throw security_error(e.what());
  }
}

}  // namespace troupe::security
