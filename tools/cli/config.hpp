// The settings every command runs with, resolved once before the command runs.
//
// Each setting comes from the first source that gives it: its flag, then its environment
// variable, then its key in the CLI config file, then a default. The config file is
// --config, else $TROUPE_CONFIG, else ~/.config/troupe/config.yaml; it is read only when a
// setting is not given by flag or environment. A file named by flag or environment must
// exist; the default one may be absent.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "cluster/security/credentials.hpp"
#include "tools/cli/result.hpp"

namespace troupe::cli {

// What the command line said; an empty string is a flag not given.
struct cli_flags {
  std::string head;
  std::string credentials;  // a credential file
  std::string data_dir;     // the head's data dir, on the head machine
  std::string config_file;
  int timeout_ms = 3000;
  bool json = false;
};

struct cli_config {
  // --head, TROUPE_HEAD, `head_address:`, the credential's head address, else
  // tcp://127.0.0.1:7400
  std::string head;
  // --credentials, TROUPE_CREDENTIALS, `credentials:`, else admin.credentials in the head's data
  // dir (--data-dir, TROUPE_DATA_DIR, `data_dir:`). Every request to the head needs one.
  security::credential credential;
  std::chrono::milliseconds timeout{3000};  // how long to wait for each reply
  bool json = false;                        // print JSON instead of tables
};

// Reads an environment variable; nullptr when unset (std::getenv in `main`).
using environment = std::function<const char*(const char*)>;

// Fails with exit code `usage` when the config file is needed and cannot be read or parsed.
result<cli_config> resolve_config(const cli_flags& flags, const environment& env);

}  // namespace troupe::cli
