// How the CLI shows replies: aligned tables for people, JSON for scripts.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "messages/cluster.hpp"

namespace troupe::cli {

nlohmann::json to_json(const msg::node_status& node);
nlohmann::json to_json(const msg::cluster_status_reply& status);

// Indented JSON and a newline; a byte that is not UTF-8 (texts come from nodes) is shown as
// U+FFFD rather than failing.
std::string json_text(const nlohmann::json& value);

// Left-aligned columns separated by two spaces, sized by the cells' display width; the cells
// must hold escaped text.
std::string table(const std::vector<std::vector<std::string>>& rows);

// A Unix time in ms as ISO 8601 UTC (2026-12-01T13:55:18Z); "-" for 0 (never, not yet).
std::string utc_time(int64_t unix_ms);
// A duration in ms as 4.2s, 3m7s or 2h5m (a negative one as 0.0s).
std::string duration_text(int64_t ms);

std::string nodes_table(const std::vector<msg::node_status>& nodes);
std::string status_text(const msg::cluster_status_reply& status, const std::string& head);

}  // namespace troupe::cli
