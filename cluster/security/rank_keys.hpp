// A node's rank keys: one CURVE key pair per task attempt that talks to the node over the rank
// link (docs/training.md), made when the attempt starts and dropped when it ends. A rank key has
// the role `rank` and speaks only for its attempt; it is never known to the head. Thread-safe:
// the runner adds and drops, the rank link's ZAP handler and endpoint look up.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "cluster/security/curve_keys.hpp"
#include "cluster/security/key_lookup.hpp"

namespace troupe::security {

// What the node knows of an attempt whose rank speaks over the rank link: what its requests
// may touch (the artifacts of its job's tenant, the files in its working directory).
struct rank_attempt {
  std::string attempt_id;
  std::string tenant;   // its job's (TaskLaunch.tenant)
  std::string workdir;  // its working directory on this node
};

class rank_keys : public key_lookup {
 public:
  // A new key pair for the attempt, replacing any it had.
  key_pair add(const rank_attempt& attempt, int64_t now_ms);
  void drop(const std::string& attempt_id);
  // The attempt the key with this id speaks for, while it is usable.
  std::optional<rank_attempt> attempt_of(const std::string& key_id) const;

  std::optional<msg::key_info> admit(const std::string& public_key, int64_t now_ms) const override;
  std::optional<msg::key_info> usable(const std::string& key_id, int64_t now_ms) const override;

 private:
  struct entry {
    msg::key_info key;
    rank_attempt attempt;
  };
  mutable std::mutex mutex_;
  std::map<std::string, entry> by_id_;
  std::map<std::string, std::string> id_of_attempt_;
};

}  // namespace troupe::security
