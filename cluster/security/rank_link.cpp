#include "cluster/security/rank_link.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "cluster/security/credentials.hpp"
#include "cluster/security/key_registry.hpp"

namespace troupe::security {
namespace {

constexpr const char* credential_suffix = ".credentials";

}  // namespace

std::string rank_link_endpoint(const std::string& dir) { return "ipc://" + dir + "/link.sock"; }

rank_link_issuer::rank_link_issuer(std::shared_ptr<rank_keys> keys, std::string dir,
                                   std::string endpoint, std::string node_public_key)
    : keys_(std::move(keys)),
      dir_(std::move(dir)),
      endpoint_(std::move(endpoint)),
      node_public_key_(std::move(node_public_key)) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || ::chmod(dir_.c_str(), 0700) != 0)
    throw security_error("cannot make the rank directory " + dir_ + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(dir_, ec))
    if (entry.path().extension() == credential_suffix) fs::remove(entry.path(), ec);
}

std::string rank_link_issuer::path_of(const std::string& attempt_id) const {
  return dir_ + "/" + attempt_id + credential_suffix;
}

std::string rank_link_issuer::issue(const rank_attempt& attempt) {
  credential c;
  c.role = msg::key_role::rank;
  c.keys = keys_->add(attempt, unix_now_ms());
  c.key_id = key_id_of(c.keys.public_key);
  c.head_public_key = node_public_key_;
  c.head_address = endpoint_;
  const auto path = path_of(attempt.attempt_id);
  save_credential(path, c);
  return path;
}

void rank_link_issuer::revoke(const std::string& attempt_id) {
  keys_->drop(attempt_id);
  std::error_code ec;
  std::filesystem::remove(path_of(attempt_id), ec);
}

}  // namespace troupe::security
