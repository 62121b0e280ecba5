#include "config/daemon_args.hpp"

#include <CLI/CLI.hpp>

#include <sstream>

namespace troupe::config {
namespace {

// Finds --config FILE / --config=FILE before the full parse, so that flags win over the file.
std::string find_config_file(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) return args[i].substr(9);
  }
  return {};
}

// CLI11 reads "-5" into an unsigned 64-bit option as 2^64 - 5: refuse a sign before it does.
const CLI::Validator not_negative(
    [](std::string& value) {
      return value.find('-') == std::string::npos ? std::string() : "must not be negative";
    },
    "", "not negative");

}  // namespace

parsed_args parse_daemon_args(const std::vector<std::string>& args) {
  parsed_args result;
  auto& s = result.settings;
  std::string config_file = find_config_file(args);
  if (!config_file.empty()) load_yaml_file(config_file, s);

  CLI::App app{"trouped: the Troupe node daemon", "trouped"};
  app.set_version_flag("--version", std::string("trouped ") + TROUPE_VERSION);
  app.add_option("--config", config_file, "YAML settings file (flags override it)");
  app.add_flag("--head", s.head, "run the coordinator too (one per cluster)");
  app.add_option("--listen", s.listen, "head: address to bind, tcp://HOST:PORT");
  app.add_option("--join", s.join, "node: the head's address, tcp://HOST:PORT");
  app.add_option("--token", s.join_token, "node: join token, needed only for the first join");
  app.add_option("--data-dir", s.data_dir, "directory for node id, incarnation and state");
  app.add_option("--name", s.name, "node name (default: host name)");
  app.add_option("--cpus", s.cpus, "CPUs to offer (default: detected)");
  app.add_option("--memory-mb", s.memory_mb, "memory to offer in MiB (default: detected)")
      ->check(not_negative);
  app.add_option("--gpus", s.gpus, "GPUs to offer (default: detected)")->check(not_negative);
  std::vector<std::string> labels;
  app.add_option("--label", labels, "node label key=value (repeatable)");
  app.add_flag("--no-worker", s.no_worker, "head: run no node agent in the head");
  app.add_option("--store", s.store, "head: store URL (default: sqlite in the data dir)");
  app.add_option("--heartbeat-interval-ms", s.heartbeat_interval_ms, "head: heartbeat period")
      ->check(not_negative);
  app.add_option("--max-frame-bytes", s.max_frame_bytes, "largest inbound frame accepted")
      ->check(not_negative);
  app.add_option("--artifact-max-bytes", s.artifact_max_bytes, "head: largest artifact accepted")
      ->check(not_negative);
  app.add_option("--artifact-upload-idle-ms", s.artifact_upload_idle_ms,
                 "head: drop an upload idle this long")
      ->check(not_negative);
  app.add_option("--artifact-cache-mb", s.artifact_cache_mb,
                 "node: the most its artifact cache holds, in MiB")
      ->check(not_negative);
  app.add_option("--serve-ports", s.serve_ports,
                 "node: LOW-HIGH, the ports its serve replicas' prediction sockets bind "
                 "(default: any free port)");
  app.add_option("--http-listen", s.http_listen,
                 "HOST:PORT for HTTP (health, metrics, inference), or off (head default: " +
                     std::string(default_head_http_listen) + ", node: off)");
  app.add_option("--http-io-threads", s.http_io_threads, "threads serving HTTP")
      ->check(not_negative);
  app.add_option("--http-max-body-bytes", s.http_max_body_bytes,
                 "largest HTTP request body accepted")
      ->check(not_negative);
  app.add_option("--log-level", s.log_level, "trace, debug, info, warn or error");
  app.add_option("--log-file", s.log_file, "log to this file instead of standard error");

  std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);  // CLI11 wants reversed
  try {
    app.parse(reversed);
  } catch (const CLI::Success& e) {
    std::ostringstream out, err;
    result.exit_code = app.exit(e, out, err);
    result.exit_now = true;
    result.output = out.str() + err.str();
    return result;
  } catch (const CLI::ParseError& e) {
    throw config_error(e.what());
  }
  for (const auto& l : labels) add_label(l, s.labels);
  validate(s);
  return result;
}

}  // namespace troupe::config
