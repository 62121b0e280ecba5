// The keys the head admits, each with a role: the ZAP handler asks it at every CURVE handshake,
// the wire endpoint at every message (so a revoked or expired key stops at once), the security
// actor changes it. Kept in the head's data dir as `keys.jsonl` (mode 0600): one JSON line per
// change (a key added, a key revoked), appended and fsynced before the call returns, so that
// enrolling the thousandth node costs one short write; compacted (replaced atomically) at load.
// Lines written before keys had a tenant load with an empty one. Thread-safe.
//
// Times are Unix milliseconds passed in by the caller, so tests drive the clock.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cluster/security/key_lookup.hpp"
#include "messages/error.hpp"
#include "messages/security.hpp"

namespace troupe::security {

class key_registry : public key_lookup {
 public:
  // Loads `path` if it exists; throws security_error when it cannot be read or parsed.
  explicit key_registry(std::string path);
  ~key_registry() override;
  key_registry(const key_registry&) = delete;
  key_registry& operator=(const key_registry&) = delete;

  // The key with this public key, if it may connect now (known, not revoked, not expired).
  std::optional<msg::key_info> admit(const std::string& public_key, int64_t now_ms) const override;
  // The key with this id, if it may speak now.
  std::optional<msg::key_info> usable(const std::string& key_id, int64_t now_ms) const override;

  // Stores a new key; `conflict` when its id is taken, or when a node key is added for a node
  // id that already has a usable one. Throws security_error when the file cannot be written.
  std::optional<msg::error> add(const msg::key_info& key, int64_t now_ms);
  std::variant<msg::key_info, msg::error> revoke(const std::string& key_id, int64_t now_ms);
  // By creation time, revoked and expired ones included.
  std::vector<msg::key_info> list() const;

 private:
  void append(const std::string& line);  // with mutex_ held
  void compact() const;

  std::string path_;
  int fd_ = -1;  // the journal, open for appending
  mutable std::mutex mutex_;
  std::map<std::string, msg::key_info> by_id_;
};

// Why `tenant` does not fit a key of `role`, or nullopt when it does: a submit key is bound to
// one tenant (msg::is_tenant_name), a key of any other role to none.
std::optional<std::string> tenant_problem(msg::key_role role, const std::string& tenant);

// Unix time now, in milliseconds.
int64_t unix_now_ms();

}  // namespace troupe::security
