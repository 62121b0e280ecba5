// `trouped`'s command line: the YAML file named by --config is read first, then every flag
// given on the command line overrides it.
#pragma once

#include <string>
#include <vector>

#include "config/settings.hpp"

namespace troupe::config {

struct parsed_args {
  daemon_settings settings;
  bool exit_now = false;  // --help or --version was handled
  int exit_code = 0;
  std::string output;  // text to print when exit_now
};

// Throws config_error for bad flags, a bad file or invalid settings.
parsed_args parse_daemon_args(const std::vector<std::string>& args);

}  // namespace troupe::config
