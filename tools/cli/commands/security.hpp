// Commands about keys (docs/security.md): join tokens for nodes, credentials for CLI users,
// listing and revoking keys. Each needs an admin credential.
#pragma once

#include <string>

#include "tools/cli/commands/cluster.hpp"

namespace troupe::cli {

// `ttl` like 90s, 30m, 1h or 7d (at most 30 days).
command_output create_join_token(const session& s, const std::string& ttl);
// Makes a key pair here, registers its public key with `role` (admin, or submit bound to
// `tenant`), writes the credential to `out_file` (mode 0600; refuses to overwrite a file). The
// secret key never leaves this machine.
command_output create_credential(const session& s, const std::string& role,
                                 const std::string& tenant, const std::string& label,
                                 const std::string& out_file);
command_output list_keys(const session& s);
command_output revoke_key(const session& s, const std::string& key_id);

// Seconds in a TTL such as "1h"; a failure names the flag.
result<uint32_t> parse_ttl(const std::string& ttl);

}  // namespace troupe::cli
