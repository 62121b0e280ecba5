#include "tools/cli/commands/cluster.hpp"

#include <algorithm>

#include "tools/cli/display_text.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

command_output set_drain(const session& s, const std::string& node, bool drain) {
  auto reply = s.call_for<msg::drain_node_reply>(msg::drain_node_request{node, drain});
  if (!reply) return reply.error();
  if (s.config().json) return json_text(to_json(reply->node));
  return "node " + msg::printable(reply->node.name) + " (" + msg::printable(reply->node.node_id) +
         ") " + (drain ? "drains: it takes no new work" : "is no longer draining") + "; state " +
         msg::to_string(reply->node.state) + "\n";
}

}  // namespace

command_output show_status(const session& s) {
  auto status = s.call_for<msg::cluster_status_reply>(msg::cluster_status_request{});
  if (!status) return status.error();
  if (s.config().json) return json_text(to_json(*status));
  return status_text(*status, s.config().head);
}

command_output show_nodes(const session& s) {
  auto list = s.call_for<msg::node_list_reply>(msg::node_list_request{});
  if (!list) return list.error();
  auto& nodes = list->nodes;
  std::stable_sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) {
    return std::make_pair(!a.is_head, a.name) < std::make_pair(!b.is_head, b.name);
  });
  if (!s.config().json) return nodes_table(nodes);
  auto out = nlohmann::json::array();
  for (const auto& n : nodes) out.push_back(to_json(n));
  return json_text(out);
}

command_output drain_node(const session& s, const std::string& node) {
  return set_drain(s, node, true);
}

command_output undrain_node(const session& s, const std::string& node) {
  return set_drain(s, node, false);
}

command_output remove_node(const session& s, const std::string& node) {
  auto reply = s.call_for<msg::remove_node_reply>(msg::remove_node_request{node});
  if (!reply) return reply.error();
  if (s.config().json)
    return json_text({{"id", reply->node_id}, {"name", reply->name}, {"removed", true}});
  return "node " + msg::printable(reply->name) + " (" + msg::printable(reply->node_id) +
         ") removed\n";
}

}  // namespace troupe::cli
