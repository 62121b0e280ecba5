#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "messages/print.hpp"
#include "tests/unit/cli/scripted_head.hpp"
#include "tools/cli/commands/cluster.hpp"

using namespace troupe;
using testing::scripted_head;
using testing::session_with;

namespace {

msg::node_status node(const std::string& name, const std::string& id, bool is_head = false) {
  msg::node_status n;
  n.name = name;
  n.node_id = id;
  n.is_head = is_head;
  n.incarnation = 1;
  n.resources = {4, 8192, {{0, "gpu", 1024}}};
  n.last_heartbeat_ms_ago = 120;
  n.labels = {{"zone", "a"}};
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_commands)

BOOST_AUTO_TEST_CASE(status_prints_the_cluster_summary) {
  msg::cluster_status_reply status;
  status.head_version = "0.1.0";
  status.head_uptime_ms = 65000;
  status.nodes_alive = 2;
  status.nodes_dead = 1;
  status.total = {8, 16384, 2};
  status.available = {6, 12288, 1};
  status.malformed_messages = 3;
  scripted_head head({status});
  auto out = cli::show_status(session_with(head));
  BOOST_TEST_REQUIRE(bool(out));
  BOOST_TEST(*out == "head       " + head.endpoint() +
                         " (troupe 0.1.0, up 65s)\n"
                         "nodes      2 alive, 0 suspect, 1 dead, 0 draining, 0 left\n"
                         "cpus       6 free of 8\n"
                         "memory     12.0Gi free of 16.0Gi\n"
                         "gpus       1 free of 2\n"
                         "malformed  3 frames refused\n");
}

BOOST_AUTO_TEST_CASE(status_with_json_prints_the_counts_as_json) {
  msg::cluster_status_reply status;
  status.nodes_alive = 2;
  scripted_head head({status});
  auto out = cli::show_status(session_with(head, true));
  BOOST_TEST_REQUIRE(bool(out));
  auto json = nlohmann::json::parse(*out);
  BOOST_TEST(json["nodes"]["alive"] == 2);
  BOOST_TEST(out->back() == '\n');
}

BOOST_AUTO_TEST_CASE(nodes_lists_the_head_first_then_by_name) {
  scripted_head head({msg::node_list_reply{
      {node("b", "id-b"), node("a", "id-a"), node("z", "id-head-0123456789", true)}}});
  auto out = cli::show_nodes(session_with(head));
  BOOST_TEST_REQUIRE(bool(out));
  BOOST_TEST(*out ==
             "NAME      ID            STATE  CPUS  MEMORY  GPUS  HEARTBEAT  INCARNATION  LABELS\n"
             "z (head)  id-head-0123  alive  4     8192Mi  1     120ms ago  1            zone=a\n"
             "a         id-a          alive  4     8192Mi  1     120ms ago  1            zone=a\n"
             "b         id-b          alive  4     8192Mi  1     120ms ago  1            zone=a\n");
}

BOOST_AUTO_TEST_CASE(nodes_shows_control_and_bidi_characters_in_names_and_labels_escaped) {
  auto evil = node("evil\x1b[2J\nforged\u202e", "id-e");
  evil.labels = {{"k\x07", "v\u2066"}};
  scripted_head head({msg::node_list_reply{{evil}}});
  auto out = cli::show_nodes(session_with(head));
  BOOST_TEST_REQUIRE(bool(out));
  BOOST_TEST(*out ==
             "NAME                       ID    STATE  CPUS  MEMORY  GPUS  HEARTBEAT  "
             "INCARNATION  LABELS\n"
             "evil\\x1b[2J\\nforged\\u202e  id-e  alive  4     8192Mi  1     120ms ago  1"
             "            k\\x07=v\\u2066\n");
}

BOOST_AUTO_TEST_CASE(nodes_aligns_columns_by_display_width) {
  scripted_head head({msg::node_list_reply{{node("数据节点", "id-c"), node("a", "id-a")}}});
  auto out = cli::show_nodes(session_with(head));
  BOOST_TEST_REQUIRE(bool(out));
  BOOST_TEST(*out ==
             "NAME      ID    STATE  CPUS  MEMORY  GPUS  HEARTBEAT  INCARNATION  LABELS\n"
             "a         id-a  alive  4     8192Mi  1     120ms ago  1            zone=a\n"
             "数据节点  id-c  alive  4     8192Mi  1     120ms ago  1            zone=a\n");
}

BOOST_AUTO_TEST_CASE(drain_and_remove_show_the_node_name_escaped) {
  auto evil = node("a\x1b]0;owned\x07", "id-a");
  scripted_head head({msg::drain_node_reply{evil}, msg::remove_node_reply{"id-a", evil.name}});
  auto drained = cli::drain_node(session_with(head), "id-a");
  BOOST_TEST_REQUIRE(bool(drained));
  BOOST_TEST(*drained ==
             "node a\\x1b]0;owned\\x07 (id-a) drains: it takes no new work; state alive\n");
  auto removed = cli::remove_node(session_with(head), "id-a");
  BOOST_TEST_REQUIRE(bool(removed));
  BOOST_TEST(*removed == "node a\\x1b]0;owned\\x07 (id-a) removed\n");
}

BOOST_AUTO_TEST_CASE(nodes_with_json_prints_one_object_per_node) {
  scripted_head head({msg::node_list_reply{{node("b", "id-b"), node("a", "id-a")}}});
  auto out = cli::show_nodes(session_with(head, true));
  BOOST_TEST_REQUIRE(bool(out));
  auto json = nlohmann::json::parse(*out);
  BOOST_TEST_REQUIRE(json.size() == 2u);
  BOOST_TEST(json[0]["name"] == "a");
  BOOST_TEST(json[0]["gpus"] == 1);
}

BOOST_AUTO_TEST_CASE(drain_and_undrain_send_the_node_and_report_its_state) {
  auto drained = node("a", "id-a");
  drained.state = msg::node_state::draining;
  scripted_head head({msg::drain_node_reply{drained}, msg::drain_node_reply{node("a", "id-a")}});
  auto drain = cli::drain_node(session_with(head), "a");
  auto undrain = cli::undrain_node(session_with(head), "a");
  BOOST_TEST_REQUIRE((drain && undrain));
  BOOST_TEST(*drain == "node a (id-a) drains: it takes no new work; state draining\n");
  BOOST_TEST(*undrain == "node a (id-a) is no longer draining; state alive\n");
  auto requests = head.requests();
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(
      (std::get<msg::drain_node_request>(requests[0]) == msg::drain_node_request{"a", true}));
  BOOST_TEST(
      (std::get<msg::drain_node_request>(requests[1]) == msg::drain_node_request{"a", false}));
}

BOOST_AUTO_TEST_CASE(remove_reports_the_removed_node) {
  scripted_head head({msg::remove_node_reply{"id-a", "a"}, msg::remove_node_reply{"id-a", "a"}});
  auto text = cli::remove_node(session_with(head), "a");
  BOOST_TEST_REQUIRE(bool(text));
  BOOST_TEST(*text == "node a (id-a) removed\n");
  auto json = cli::remove_node(session_with(head, true), "a");
  BOOST_TEST_REQUIRE(bool(json));
  BOOST_TEST(*json == "{\n  \"id\": \"id-a\",\n  \"name\": \"a\",\n  \"removed\": true\n}\n");
}

BOOST_AUTO_TEST_CASE(a_command_fails_as_its_session_call_fails) {
  scripted_head head({msg::error{msg::error_code::conflict, "node a is alive"}});
  auto out = cli::remove_node(session_with(head), "a");
  BOOST_TEST_REQUIRE(!out);
  BOOST_TEST(int(out.error().exit_code) == 1);
  BOOST_TEST(out.error().message == "node a is alive (conflict)");
}

BOOST_AUTO_TEST_SUITE_END()
