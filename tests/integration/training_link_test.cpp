// The rank link end to end with real daemons on loopback (docs/training.md): a head without a
// node agent and two nodes run gang jobs whose tasks are troupe-test-rank, linked with the
// rank-side client. The ranks meet through the head's rendezvous by way of their node agents,
// report metrics, and a process that is not a rank of the attempt it speaks for is refused.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"
#include "tests/integration/rank_cluster.hpp"

using namespace troupe;
using namespace troupe::local;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// node-1 and node-2, 2 CPUs each: a gang of two 1-CPU tasks may land on one or both.
struct two_nodes : rank_cluster {
  two_nodes() : rank_cluster(2, 60s) {}

  // A gang of `tasks` 1-CPU tasks running troupe-test-rank with `args`.
  std::string submit_ranks(const std::string& args, int tasks = 2) const {
    return submit("name: ranks\nkind: command\ntasks: " + std::to_string(tasks) +
                  "\nresources: {cpus: 1}\nshell: '" + binary("troupe-test-rank") + " " + args +
                  "'\n");
  }
};

size_t credential_files(const std::string& data_dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_dir + "/ranks", ec))
    n += e.path().extension() == ".credentials";
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rank_link)

BOOST_FIXTURE_TEST_CASE(the_ranks_of_a_gang_meet_through_the_heads_rendezvous, two_nodes) {
  const auto id = submit_ranks("rendezvous");
  const auto j = wait_until_ended(id);
  BOOST_TEST_REQUIRE(j["state"] == "SUCCEEDED", j.dump() + all_logs(id) + c.dump_logs());
  for (int task : {0, 1}) {
    const auto out = logs(id, task);
    const auto me = "rank " + std::to_string(task);
    BOOST_TEST(contains(out, me + " got addr/0: rank 0 here"), out);
    BOOST_TEST(contains(out, me + " got addr/1: rank 1 here"), out);
  }
}

BOOST_FIXTURE_TEST_CASE(the_ranks_metrics_are_shown_by_troupe_metrics_the_last_step_included,
                        two_nodes) {
  const auto id = submit_ranks("rendezvous");
  BOOST_TEST_REQUIRE(wait_until_ended(id)["state"] == "SUCCEEDED", all_logs(id));
  // Each rank reports steps 1, 2 and 3 at a rate limit of one per 100 s, then its epoch: step 1
  // leaves at once, step 3 replaces step 2 as the one to send and leaves with the epoch.
  const auto entries =
      metrics(id, [](const std::vector<json>& shown) { return shown.size() >= 6; });
  BOOST_TEST_REQUIRE(entries.size() == 6u, c.troupe({"metrics", id}).out);
  for (int task : {0, 1}) {
    const auto attempt = id + "." + std::to_string(task) + ".1";
    std::vector<uint64_t> steps;
    int epochs = 0;
    for (const auto& e : entries) {
      if (e["attempt"] != attempt) continue;
      if (e["kind"] == "step") steps.push_back(e["step"].get<uint64_t>());
      if (e["kind"] == "epoch") {
        ++epochs;
        BOOST_TEST(e["val_accuracy"].get<double>() == 0.75);
        BOOST_TEST(e["train_loss"].get<double>() == 0.5);
      }
    }
    BOOST_TEST((steps == std::vector<uint64_t>{1, 3}), attempt);
    BOOST_TEST(epochs == 1, attempt);
  }
  const auto text = c.troupe({"metrics", id, "-f"});
  BOOST_TEST(text.exit_code == 0, text.err);
  BOOST_TEST(contains(text.out, "epoch 1 done  train loss 0.5  val loss 0.625  val accuracy 0.75"),
             text.out);
}

BOOST_FIXTURE_TEST_CASE(an_attempts_rank_key_and_credential_file_are_gone_once_it_ended,
                        two_nodes) {
  const auto id = submit_ranks("rendezvous");
  BOOST_TEST_REQUIRE(wait_until_ended(id)["state"] == "SUCCEEDED", all_logs(id));
  for (const char* name : {"node-1", "node-2"}) {
    const auto& dir = c.node(name).data_dir();
    BOOST_TEST(wait_until([&] { return credential_files(dir) == 0; }, 10s), name);
  }
}

BOOST_FIXTURE_TEST_CASE(a_rank_speaking_for_another_attempt_is_refused, two_nodes) {
  // A running gang whose attempt the other job's ranks try to speak for.
  const auto victim =
      submit("name: victim\nkind: command\ntasks: 2\nresources: {cpus: 1}\nshell: 'sleep 600'\n");
  const auto running = wait_for(victim, [](const json& j) { return j["state"] == "RUNNING"; });
  const auto victim_attempt = running["attempts"][0]["id"].get<std::string>();
  const auto id = submit_ranks("impersonate " + victim_attempt);
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "SUCCEEDED", j.dump() + all_logs(id));
  BOOST_TEST(contains(logs(id, 0), "this key speaks only for attempt " + id + ".0.1"), logs(id, 0));
  BOOST_TEST(c.troupe({"cancel", victim}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(a_key_its_node_never_made_gets_no_answer_on_the_rank_link, two_nodes) {
  const auto id = submit_ranks("stranger");
  const auto j = wait_until_ended(id);
  BOOST_TEST(j["state"] == "SUCCEEDED", j.dump() + all_logs(id));
  BOOST_TEST(contains(logs(id, 0), "no answer from the node's rank link"), logs(id, 0));
}

BOOST_FIXTURE_TEST_CASE(a_node_relaying_for_an_attempt_placed_on_another_node_is_refused,
                        two_nodes) {
  const auto victim =
      submit("name: victim\nkind: command\ntasks: 2\nresources: {cpus: 1}\nshell: 'sleep 600'\n");
  const auto running = wait_for(victim, [](const json& j) { return j["state"] == "RUNNING"; });
  const auto attempt = running["attempts"][0]["id"].get<std::string>();
  // A node key of a node the attempt was not placed on.
  const auto keys = c.enroll_node_key("0123456789abcdef0123456789abcdef", "intruder");
  transport::request_client intruder(c.endpoint(), "intruder", keys);
  auto reply = intruder.call(
      msg::training_message{msg::rendezvous_set_request{attempt, "addr/0", "forged"}}, 10s);
  BOOST_TEST_REQUIRE(reply.has_value());
  const auto* e = std::get_if<msg::error>(&reply->body);
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST(e->code == msg::error_code::permission_denied);
  BOOST_TEST(contains(e->message, "does not run on this node"), e->message);
  BOOST_TEST(c.troupe({"cancel", victim}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(an_assembly_for_an_attempt_the_sender_does_not_run_is_refused, two_nodes) {
  const auto victim =
      submit("name: victim\nkind: command\ntasks: 2\nresources: {cpus: 1}\nshell: 'sleep 600'\n");
  const auto running = wait_for(victim, [](const json& j) { return j["state"] == "RUNNING"; });
  const auto attempt = running["attempts"][0]["id"].get<std::string>();
  const msg::training_message assembly{msg::assemble_dataset_request{
      attempt, victim + "/scores", {{victim + "/part-0", ""}}, 10'000}};
  // A node key of a node the attempt was not placed on, and the admin's key.
  const auto keys = c.enroll_node_key("0123456789abcdef0123456789abcdef", "intruder");
  transport::request_client intruder(c.endpoint(), "intruder", keys);
  auto as_node = intruder.call(assembly, 10s);
  BOOST_TEST_REQUIRE(as_node.has_value());
  const auto* e = std::get_if<msg::error>(&as_node->body);
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST(e->code == msg::error_code::permission_denied);
  BOOST_TEST(contains(e->message, "attempt " + attempt + " does not run on this node"), e->message);
  transport::request_client admin(c.endpoint(), "test", c.admin_keys());
  auto as_admin = admin.call(assembly, 10s);
  BOOST_TEST_REQUIRE(as_admin.has_value());
  e = std::get_if<msg::error>(&as_admin->body);
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST(e->code == msg::error_code::invalid_request);
  BOOST_TEST(e->message == "the head does not serve this message");
  BOOST_TEST(c.troupe({"cancel", victim}).exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()
