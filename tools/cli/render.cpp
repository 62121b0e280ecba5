#include "tools/cli/render.hpp"

#include <ctime>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "tools/cli/display_text.hpp"

namespace troupe::cli {
namespace {

using nlohmann::json;

json to_json(const msg::free_resources& r) {
  return {{"cpus", r.cpus}, {"memory_mb", r.memory_mb}, {"gpus", r.gpus}};
}

std::string format_number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

std::string format_age(uint64_t ms) {
  if (ms < 10000) return std::to_string(ms) + "ms";
  if (ms < 600000) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms / 60000) + "m";
}

std::string format_memory(uint64_t mb) {
  if (mb < 10240) return std::to_string(mb) + "Mi";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fGi", static_cast<double>(mb) / 1024.0);
  return buf;
}

std::string join_labels(const msg::labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels)
    out += (out.empty() ? "" : ",") + msg::printable(k) + "=" + msg::printable(v);
  return out.empty() ? "-" : out;
}

}  // namespace

// Left-aligned columns separated by two spaces, sized by the cells' display width (cells
// hold escaped text).
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    out << line << "\n";
  }
  return out.str();
}

json to_json(const msg::node_status& n) {
  json gpus = json::array();
  for (const auto& g : n.resources.gpus)
    gpus.push_back({{"index", g.index}, {"name", g.name}, {"memory_mb", g.memory_mb}});
  return {{"id", n.node_id},
          {"name", n.name},
          {"state", msg::to_string(n.state)},
          {"draining", n.draining},
          {"is_head", n.is_head},
          {"cpus", n.resources.cpus},
          {"memory_mb", n.resources.memory_mb},
          {"gpus", n.resources.gpus.size()},
          {"gpu_devices", gpus},
          {"free", to_json(n.free)},
          {"load",
           {{"load_average_1m", n.load.load_average_1m},
            {"memory_used_mb", n.load.memory_used_mb},
            {"running_tasks", n.load.running_tasks}}},
          {"incarnation", n.incarnation},
          {"last_heartbeat_ms_ago", n.last_heartbeat_ms_ago},
          {"state_since_ms_ago", n.state_since_ms_ago},
          {"labels", n.labels},
          {"addresses", n.addresses},
          {"version", n.version}};
}

json to_json(const msg::cluster_status_reply& s) {
  return {{"head_version", s.head_version},
          {"head_uptime_ms", s.head_uptime_ms},
          {"nodes",
           {{"alive", s.nodes_alive},
            {"suspect", s.nodes_suspect},
            {"dead", s.nodes_dead},
            {"draining", s.nodes_draining},
            {"left", s.nodes_left}}},
          {"total", to_json(s.total)},
          {"available", to_json(s.available)},
          {"malformed_messages", s.malformed_messages}};
}

std::string utc_time(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  std::time_t t = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string duration_text(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 10'000) {
    std::ostringstream out;
    out.precision(1);
    out << std::fixed << ms / 1000.0 << "s";
    return out.str();
  }
  if (ms < 3'600'000)
    return std::to_string(ms / 60'000) + "m" + std::to_string(ms / 1000 % 60) + "s";
  return std::to_string(ms / 3'600'000) + "h" + std::to_string(ms / 60'000 % 60) + "m";
}

std::string json_text(const json& value) {
  return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string nodes_table(const std::vector<msg::node_status>& nodes) {
  std::vector<std::vector<std::string>> rows{
      {"NAME", "ID", "STATE", "CPUS", "MEMORY", "GPUS", "HEARTBEAT", "INCARNATION", "LABELS"}};
  for (const auto& n : nodes) {
    rows.push_back({msg::printable(n.name) + (n.is_head ? " (head)" : ""),
                    msg::printable(n.node_id.substr(0, 12)), msg::to_string(n.state),
                    format_number(n.resources.cpus), format_memory(n.resources.memory_mb),
                    std::to_string(n.resources.gpus.size()),
                    format_age(n.last_heartbeat_ms_ago) + " ago", std::to_string(n.incarnation),
                    join_labels(n.labels)});
  }
  return table(rows);
}

std::string status_text(const msg::cluster_status_reply& s, const std::string& head) {
  std::ostringstream out;
  out << "head       " << head << " (troupe " << msg::printable(s.head_version) << ", up "
      << format_age(s.head_uptime_ms) << ")\n"
      << "nodes      " << s.nodes_alive << " alive, " << s.nodes_suspect << " suspect, "
      << s.nodes_dead << " dead, " << s.nodes_draining << " draining, " << s.nodes_left << " left\n"
      << "cpus       " << format_number(s.available.cpus) << " free of "
      << format_number(s.total.cpus) << "\n"
      << "memory     " << format_memory(s.available.memory_mb) << " free of "
      << format_memory(s.total.memory_mb) << "\n"
      << "gpus       " << s.available.gpus << " free of " << s.total.gpus << "\n";
  if (s.malformed_messages) out << "malformed  " << s.malformed_messages << " frames refused\n";
  return out.str();
}

}  // namespace troupe::cli
