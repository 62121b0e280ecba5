#include "config/settings.hpp"

#include <yaml-cpp/yaml.h>

#include <sstream>

#include "config/endpoint.hpp"
#include "config/port_range.hpp"
#include "messages/safe_text.hpp"

namespace troupe::config {
namespace {

// Reads `key` of `node` into `out`; `name` is the setting's full name for messages.
template <class T>
void read(const YAML::Node& node, const std::string& name, const char* key, T& out) {
  if (auto value = node[key]) {
    try {
      out = value.as<T>();
    } catch (const YAML::Exception& e) {
      throw config_error("setting `" + name + "`: " + e.msg);
    }
  }
}

template <class T>
void read(const YAML::Node& node, const std::string& name, const char* key, std::optional<T>& out) {
  if (node[key]) {
    T value{};
    read(node, name, key, value);
    out = value;
  }
}

template <class T>
void read(const YAML::Node& node, const char* key, T& out) {
  read(node, key, key, out);
}

template <class T>
std::string number(T value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// `low <= value <= high`, which NaN never is.
template <class T>
void check_range(const std::string& name, T value, T low, T high) {
  if (value >= low && value <= high) return;
  throw config_error("setting `" + name + "` must be within " + number(low) + ".." + number(high) +
                     ", got " + number(value));
}

template <class T>
void check_range(const std::string& name, const std::optional<T>& value, T low, T high) {
  if (value) check_range(name, *value, low, high);
}

void check_node_text(const std::string& what, const std::string& text) {
  if (msg::is_node_text(text)) return;
  const auto shown = text.size() > msg::max_node_text_bytes ? std::to_string(text.size()) + " bytes"
                                                            : "`" + msg::printable(text) + "`";
  throw config_error(what + " must be " + msg::node_text_rule + ", got " + shown);
}

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
                                  "failure_detector",
                                  "artifact_max_bytes",
                                  "artifact_upload_idle_ms",
                                  "artifact_cache_mb",
                                  "serve_ports",
                                  "http_listen",
                                  "http_io_threads",
                                  "http_max_body_bytes"};

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
  read(root, "artifact_max_bytes", s.artifact_max_bytes);
  read(root, "artifact_upload_idle_ms", s.artifact_upload_idle_ms);
  read(root, "artifact_cache_mb", s.artifact_cache_mb);
  read(root, "serve_ports", s.serve_ports);
  read(root, "http_listen", s.http_listen);
  read(root, "http_io_threads", s.http_io_threads);
  read(root, "http_max_body_bytes", s.http_max_body_bytes);
  if (auto fd = root["failure_detector"]) {
    for (const auto& entry : fd) {
      auto key = entry.first.as<std::string>();
      if (key != "suspect_phi" && key != "dead_phi" && key != "min_std_dev_ms" && key != "window" &&
          key != "check_interval_ms")
        throw config_error("config file " + path + ": unknown setting `failure_detector." + key +
                           "`");
    }
    auto& f = s.failure_detector;
    read(fd, "failure_detector.suspect_phi", "suspect_phi", f.suspect_phi);
    read(fd, "failure_detector.dead_phi", "dead_phi", f.dead_phi);
    read(fd, "failure_detector.min_std_dev_ms", "min_std_dev_ms", f.min_std_dev_ms);
    read(fd, "failure_detector.window", "window", f.window);
    read(fd, "failure_detector.check_interval_ms", "check_interval_ms", f.check_interval_ms);
  }
}

void validate(const daemon_settings& s) {
  if (!s.head && s.join.empty()) throw config_error("give `--head` or `--join tcp://HOST:PORT`");
  if (s.head && !s.join.empty()) throw config_error("`--head` and `--join` exclude each other");
  if (s.head) parse_tcp_endpoint(s.listen, "listen", endpoint_use::bind);
  if (!s.join.empty()) parse_tcp_endpoint(s.join, "join", endpoint_use::connect);
  if (s.data_dir.empty()) throw config_error("`data_dir` is required");
  if (!s.name.empty()) check_node_text("setting `name`", s.name);
  for (const auto& [key, value] : s.labels) {
    if (key.empty()) throw config_error("a label needs a non-empty key");
    check_node_text("a label key", key);
    check_node_text("the value of label `" + key + "`", value);
  }
  check_range("cpus", s.cpus, limits::min_cpus, limits::max_cpus);
  check_range("memory_mb", s.memory_mb, uint64_t{1}, limits::max_memory_mb);
  check_range("gpus", s.gpus, uint32_t{0}, limits::max_gpus);
  check_range("heartbeat_interval_ms", s.heartbeat_interval_ms, limits::min_interval_ms,
              limits::max_interval_ms);
  check_range("register_retry_ms", s.register_retry_ms, limits::min_interval_ms,
              limits::max_interval_ms);
  check_range("max_frame_bytes", s.max_frame_bytes, limits::min_frame_bytes,
              limits::max_frame_bytes);
  check_range("artifact_max_bytes", s.artifact_max_bytes, uint64_t{1}, limits::max_artifact_bytes);
  check_range("artifact_upload_idle_ms", s.artifact_upload_idle_ms, limits::min_upload_idle_ms,
              limits::max_upload_idle_ms);
  check_range("artifact_cache_mb", s.artifact_cache_mb, uint64_t{1}, limits::max_artifact_cache_mb);
  if (s.serve_ports && !parse_port_range(*s.serve_ports))
    throw config_error("setting `serve_ports`: expected " + std::string(port_range_rule) +
                       ", got `" + msg::printable(*s.serve_ports) + "`");
  http_endpoint(s);
  check_range("http_io_threads", s.http_io_threads, uint32_t{1}, limits::max_http_io_threads);
  check_range("http_max_body_bytes", s.http_max_body_bytes, limits::min_http_body_bytes,
              limits::max_http_body_bytes);
  const auto& f = s.failure_detector;
  check_range("failure_detector.suspect_phi", f.suspect_phi, limits::min_phi, limits::max_phi);
  check_range("failure_detector.dead_phi", f.dead_phi, limits::min_phi, limits::max_phi);
  if (f.dead_phi <= f.suspect_phi)
    throw config_error("setting `failure_detector.dead_phi` (" + number(f.dead_phi) +
                       ") must be above `failure_detector.suspect_phi` (" + number(f.suspect_phi) +
                       ")");
  check_range("failure_detector.min_std_dev_ms", f.min_std_dev_ms, uint32_t{1},
              limits::max_interval_ms);
  check_range("failure_detector.window", f.window, uint32_t{2}, limits::max_window);
  check_range("failure_detector.check_interval_ms", f.check_interval_ms, uint32_t{1},
              uint32_t{1000});
  static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
  bool level_ok = false;
  for (auto l : levels) level_ok = level_ok || s.log_level == l;
  if (!level_ok) throw config_error("`log_level` must be trace, debug, info, warn or error");
}

std::optional<tcp_endpoint> http_endpoint(const daemon_settings& s) {
  if (!s.http_listen) {
    if (!s.head) return std::nullopt;
    return parse_host_port(default_head_http_listen, "http_listen");
  }
  if (*s.http_listen == "off") return std::nullopt;
  return parse_host_port(*s.http_listen, "http_listen");
}

void add_label(const std::string& key_value, std::map<std::string, std::string>& labels) {
  auto eq = key_value.find('=');
  if (eq == std::string::npos || eq == 0)
    throw config_error("label `" + key_value + "` must look like key=value");
  labels[key_value.substr(0, eq)] = key_value.substr(eq + 1);
}

}  // namespace troupe::config
