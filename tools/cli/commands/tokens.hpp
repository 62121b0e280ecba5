// Commands about application tokens (docs/http.md): the bearer tokens applications present to
// the head's HTTP inference endpoints. Each needs an admin credential.
#pragma once

#include <cstdint>
#include <string>

#include "tools/cli/commands/cluster.hpp"

namespace troupe::cli {

struct token_create_options {
  std::string name;
  std::string role;               // predict or manage
  std::string tenant;             // empty: every tenant
  uint32_t rate_limit_per_s = 0;  // 0: unlimited
  uint32_t burst = 0;             // 0: the rate limit
};

// Prints the token's secret, once: the head keeps only its digest.
command_output create_app_token(const session& s, const token_create_options& o);
// Every token, without secrets.
command_output list_app_tokens(const session& s);
command_output revoke_app_token(const session& s, const std::string& name);

}  // namespace troupe::cli
