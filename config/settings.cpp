#include "config/settings.hpp"

#include <yaml-cpp/yaml.h>

namespace troupe::config {
namespace {

template <class T>
void read(const YAML::Node& node, const char* key, T& out) {
  if (auto value = node[key]) {
    try {
      out = value.as<T>();
    } catch (const YAML::Exception& e) {
      throw config_error(std::string("setting `") + key + "`: " + e.msg);
    }
  }
}

template <class T>
void read(const YAML::Node& node, const char* key, std::optional<T>& out) {
  if (node[key]) {
    T value{};
    read(node, key, value);
    out = value;
  }
}

bool is_endpoint(const std::string& s) { return s.rfind("tcp://", 0) == 0 && s.size() > 6; }

const char* const known_keys[] = {"head",
                                  "listen",
                                  "join",
                                  "data_dir",
                                  "name",
                                  "cpus",
                                  "memory_mb",
                                  "gpus",
                                  "labels",
                                  "no_worker",
                                  "store",
                                  "heartbeat_interval_ms",
                                  "register_retry_ms",
                                  "max_frame_bytes",
                                  "log_level",
                                  "log_file",
                                  "failure_detector"};

}  // namespace

void load_yaml_file(const std::string& path, daemon_settings& s) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw config_error("config file " + path + ": " + e.msg);
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw config_error("config file " + path + ": expected a mapping");
  for (const auto& entry : root) {
    auto key = entry.first.as<std::string>();
    bool known = false;
    for (auto k : known_keys) known = known || key == k;
    if (!known) throw config_error("config file " + path + ": unknown setting `" + key + "`");
  }
  read(root, "head", s.head);
  read(root, "listen", s.listen);
  read(root, "join", s.join);
  read(root, "data_dir", s.data_dir);
  read(root, "name", s.name);
  read(root, "cpus", s.cpus);
  read(root, "memory_mb", s.memory_mb);
  read(root, "gpus", s.gpus);
  read(root, "labels", s.labels);
  read(root, "no_worker", s.no_worker);
  read(root, "store", s.store);
  read(root, "heartbeat_interval_ms", s.heartbeat_interval_ms);
  read(root, "register_retry_ms", s.register_retry_ms);
  read(root, "max_frame_bytes", s.max_frame_bytes);
  read(root, "log_level", s.log_level);
  read(root, "log_file", s.log_file);
  if (auto fd = root["failure_detector"]) {
    for (const auto& entry : fd) {
      auto key = entry.first.as<std::string>();
      if (key != "suspect_phi" && key != "dead_phi" && key != "min_std_dev_ms" && key != "window" &&
          key != "check_interval_ms")
        throw config_error("config file " + path + ": unknown setting `failure_detector." + key +
                           "`");
    }
    auto& f = s.failure_detector;
    read(fd, "suspect_phi", f.suspect_phi);
    read(fd, "dead_phi", f.dead_phi);
    read(fd, "min_std_dev_ms", f.min_std_dev_ms);
    read(fd, "window", f.window);
    read(fd, "check_interval_ms", f.check_interval_ms);
  }
}

void validate(const daemon_settings& s) {
  if (s.head && !is_endpoint(s.listen))
    throw config_error("`listen` must look like tcp://HOST:PORT, got `" + s.listen + "`");
  if (!s.head && s.join.empty()) throw config_error("give `--head` or `--join tcp://HOST:PORT`");
  if (!s.join.empty() && !is_endpoint(s.join))
    throw config_error("`join` must look like tcp://HOST:PORT, got `" + s.join + "`");
  if (s.head && !s.join.empty()) throw config_error("`--head` and `--join` exclude each other");
  if (s.data_dir.empty()) throw config_error("`data_dir` is required");
  if (s.cpus && *s.cpus <= 0) throw config_error("`cpus` must be positive");
  if (s.heartbeat_interval_ms < 10 || s.heartbeat_interval_ms > 60000)
    throw config_error("`heartbeat_interval_ms` must be within 10..60000");
  if (s.register_retry_ms < 10) throw config_error("`register_retry_ms` must be at least 10");
  if (s.max_frame_bytes < 4096) throw config_error("`max_frame_bytes` must be at least 4096");
  const auto& f = s.failure_detector;
  if (f.suspect_phi <= 0 || f.dead_phi <= f.suspect_phi)
    throw config_error("failure_detector: need 0 < suspect_phi < dead_phi");
  if (f.min_std_dev_ms < 1) throw config_error("failure_detector.min_std_dev_ms must be >= 1");
  if (f.window < 2) throw config_error("failure_detector.window must be at least 2");
  if (f.check_interval_ms < 1 || f.check_interval_ms > 1000)
    throw config_error("failure_detector.check_interval_ms must be within 1..1000");
  static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
  bool level_ok = false;
  for (auto l : levels) level_ok = level_ok || s.log_level == l;
  if (!level_ok) throw config_error("`log_level` must be trace, debug, info, warn or error");
}

void add_label(const std::string& key_value, std::map<std::string, std::string>& labels) {
  auto eq = key_value.find('=');
  if (eq == std::string::npos || eq == 0)
    throw config_error("label `" + key_value + "` must look like key=value");
  labels[key_value.substr(0, eq)] = key_value.substr(eq + 1);
}

}  // namespace troupe::config
