#include "tools/cli/config.hpp"

#include <yaml-cpp/yaml.h>

#include <optional>

namespace troupe::cli {
namespace {

constexpr const char* default_head = "tcp://127.0.0.1:7400";

// The sources of settings, in order; the config file is loaded on first use.
class sources {
 public:
  sources(const cli_flags& flags, const environment& env) : env_(env) {
    path_ = flags.config_file;
    if (!path_.empty()) return;
    if (const char* named = env_("TROUPE_CONFIG"); named && *named) {
      path_ = named;
    } else if (const char* home = env_("HOME")) {
      path_ = std::string(home) + "/.config/troupe/config.yaml";
      must_exist_ = false;
    }
  }

  // The first of `flag`, the variable `env_name` and the file's `key`; nullopt from none.
  result<std::optional<std::string>> lookup(const std::string& flag, const char* env_name,
                                            const char* key) {
    if (!flag.empty()) return std::optional<std::string>(flag);
    if (const char* value = env_(env_name); value && *value)
      return std::optional<std::string>(value);
    if (!file_) {
      auto loaded = load();
      if (!loaded) return loaded.error();
      file_ = *loaded;
    }
    try {
      if (auto node = (*file_)[key]) return std::optional<std::string>(node.as<std::string>());
      return std::optional<std::string>();
    } catch (const YAML::Exception& e) {
      return bad_file(e.msg);
    }
  }

 private:
  // An absent file that need not exist reads as empty.
  result<YAML::Node> load() const {
    if (path_.empty()) return YAML::Node();
    try {
      return YAML::LoadFile(path_);
    } catch (const YAML::BadFile&) {
      if (!must_exist_) return YAML::Node();
      return bad_file("cannot read the file");
    } catch (const YAML::Exception& e) {
      return bad_file(e.msg);
    }
  }

  failure bad_file(const std::string& why) const {
    return {exit_code::usage, "config " + path_ + ": " + why};
  }

  const environment& env_;
  std::string path_;
  bool must_exist_ = true;
  std::optional<YAML::Node> file_;
};

// The credential file: named, else the admin credential in the head's data dir.
result<std::string> credential_file(sources& from, const cli_flags& flags) {
  auto named = from.lookup(flags.credentials, "TROUPE_CREDENTIALS", "credentials");
  if (!named) return named.error();
  if (*named) return **named;
  auto data_dir = from.lookup(flags.data_dir, "TROUPE_DATA_DIR", "data_dir");
  if (!data_dir) return data_dir.error();
  if (*data_dir) return **data_dir + "/admin.credentials";
  return failure{exit_code::usage,
                 "no credentials: give --credentials FILE (or TROUPE_CREDENTIALS, or "
                 "`credentials:` in the CLI config), or --data-dir DIR of the head on its machine"};
}

}  // namespace

result<cli_config> resolve_config(const cli_flags& flags, const environment& env) {
  sources from(flags, env);
  auto head = from.lookup(flags.head, "TROUPE_HEAD", "head_address");
  if (!head) return head.error();
  auto file = credential_file(from, flags);
  if (!file) return file.error();
  cli_config config;
  try {
    config.credential = security::load_credential(*file);
  } catch (const security::security_error& e) {
    return failure{exit_code::usage, e.what()};
  }
  config.head = head->value_or(
      config.credential.head_address.empty() ? default_head : config.credential.head_address);
  config.timeout = std::chrono::milliseconds(flags.timeout_ms);
  config.json = flags.json;
  return config;
}

}  // namespace troupe::cli
