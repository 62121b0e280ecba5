// Typed settings of `trouped`, with defaults and validation. Every field is documented in
// docs/configuration.md; the YAML keys are the field names below (nested where grouped).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/endpoint.hpp"

namespace troupe::config {

// Thrown for a setting that cannot be used; the message names the setting.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The range of every numeric setting, both ends included (docs/configuration.md lists them).
namespace limits {
inline constexpr double min_cpus = 0.01, max_cpus = 65536;
inline constexpr uint64_t max_memory_mb = uint64_t{1} << 30;  // 1 PiB
inline constexpr uint32_t max_gpus = 256;
// heartbeat_interval_ms, register_retry_ms; min_std_dev_ms up to the same maximum
inline constexpr uint32_t min_interval_ms = 10, max_interval_ms = 60000;
inline constexpr uint32_t min_frame_bytes = 4096, max_frame_bytes = 64 << 20;
inline constexpr double min_phi = 0.1, max_phi = 100;
inline constexpr uint32_t max_window = 1000;                       // 8 KiB of history per node
inline constexpr uint64_t max_artifact_bytes = uint64_t{1} << 50;  // 1 PiB
// artifact_upload_idle_ms
inline constexpr uint32_t min_upload_idle_ms = 100, max_upload_idle_ms = 86'400'000;
inline constexpr uint64_t max_artifact_cache_mb = uint64_t{1} << 30;  // 1 PiB
inline constexpr uint32_t max_http_io_threads = 64;
inline constexpr uint64_t min_http_body_bytes = 1024, max_http_body_bytes = 1 << 30;
}  // namespace limits

// Phi-accrual failure detector (see docs/failure-detection.md).
struct failure_detector_settings {
  double suspect_phi = 3.0;         // phi at which a node becomes `suspect`
  double dead_phi = 8.0;            // phi at which a node is declared `dead`
  uint32_t min_std_dev_ms = 100;    // floor on the heartbeat interval's deviation
  uint32_t window = 100;            // heartbeat intervals remembered per node
  uint32_t check_interval_ms = 20;  // how often the head evaluates every node
};

struct daemon_settings {
  bool head = false;                          // run the coordinator (`--head`)
  std::string listen = "tcp://0.0.0.0:7400";  // head: where to bind
  std::string join;                           // node: the head's address
  std::string join_token;                     // node: needed only until it has enrolled
  std::string data_dir;                       // node id, incarnation, head's store
  std::string name;                           // unique node name; default: the host name
  std::optional<double> cpus;                 // override detected CPUs
  std::optional<uint64_t> memory_mb;          // override detected memory
  std::optional<uint32_t> gpus;               // override detected GPU count
  std::map<std::string, std::string> labels;
  bool no_worker = false;                // head: do not run a node agent in the head
  std::string store;                     // head: store URL; default sqlite in data_dir
  uint32_t heartbeat_interval_ms = 200;  // head: the period it asks nodes to heartbeat at
  uint32_t register_retry_ms = 50;       // node: first retry delay when registering
  uint32_t max_frame_bytes = 1 << 20;    // larger inbound frames are refused
  std::string log_level = "info";        // trace, debug, info, warn, error
  std::string log_file;                  // default: standard error
  failure_detector_settings failure_detector;
  // head: the largest artifact it accepts (docs/artifacts.md), 16 GiB
  uint64_t artifact_max_bytes = uint64_t{16} << 30;
  // head: an upload that sends nothing for this long is dropped with its bytes
  uint32_t artifact_upload_idle_ms = 60'000;
  // node: the most its artifact cache holds (docs/artifacts.md), 20 GiB
  uint64_t artifact_cache_mb = 20'480;
  // node: LOW-HIGH, the ports its serve replicas' prediction sockets bind (config/port_range.hpp);
  // unset: any free port
  std::optional<std::string> serve_ports;
  // HOST:PORT of the HTTP server (health, /metrics, inference; docs/http.md). Unset: a head
  // serves on 127.0.0.1:7480, a node serves none; "off": none; port 0: any free port.
  std::optional<std::string> http_listen;
  uint32_t http_io_threads = 1;
  uint64_t http_max_body_bytes = 1 << 20;  // a larger request body is answered 413
};

inline constexpr const char* default_head_http_listen = "127.0.0.1:7480";

// Where the daemon serves HTTP, by `http_listen` and its role; nullopt: nowhere.
std::optional<tcp_endpoint> http_endpoint(const daemon_settings& settings);

// Reads a YAML file into `settings` (keys absent from the file keep their value).
void load_yaml_file(const std::string& path, daemon_settings& settings);

// Checks the whole set: every number within its limits, addresses, the node's name and
// labels by the head's own rule (msg::is_node_text). Throws config_error naming the first bad
// setting.
void validate(const daemon_settings& settings);

// Parses "key=value" into labels; throws config_error on a malformed label.
void add_label(const std::string& key_value, std::map<std::string, std::string>& labels);

}  // namespace troupe::config
