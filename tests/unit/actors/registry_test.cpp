#include <boost/test/unit_test.hpp>
#include <functional>
#include <optional>

#include "actors/membership/registry.hpp"
#include "messages/print.hpp"

using namespace troupe;
using time_point = troupe::membership::clock::time_point;
using troupe::membership::node_entry;
using ms = std::chrono::milliseconds;
using msg::node_state;
using reason = msg::heartbeat_reject_reason;

namespace {

msg::register_node_request node(const std::string& id, const std::string& name,
                                uint64_t incarnation) {
  msg::register_node_request r;
  r.node_id = id;
  r.name = name;
  r.incarnation = incarnation;
  r.resources = {4, 8192, {}};
  return r;
}

msg::heartbeat beat(const std::string& id, uint64_t incarnation, uint64_t sequence) {
  msg::heartbeat h;
  h.node_id = id;
  h.incarnation = incarnation;
  h.sequence = sequence;
  return h;
}

struct fixture {
  config::failure_detector_settings detector;
  membership::registry nodes{detector, 200, "head-id"};
  time_point t0 = troupe::membership::clock::now();

  node_state state_of(const std::string& id, time_point now) {
    return nodes.status_of(*nodes.find(id), now).state;
  }
  // Registers and answers at once.
  bool registered(const msg::register_node_request& r, time_point now) {
    bool accepted =
        std::holds_alternative<msg::register_node_reply>(nodes.on_register("p", r, now).reply);
    nodes.registration_answered(r.node_id, r.incarnation, now);
    return accepted;
  }
  // Heartbeats every 200 ms from t0 up to `until`.
  void keep_beating(const std::string& id, uint64_t inc, time_point until) {
    uint64_t seq = 1;
    for (auto t = t0 + ms(200); t <= until; t += ms(200))
      nodes.on_heartbeat("p", beat(id, inc, seq++), t);
  }
};

// A cluster of 100 nodes, each heartbeating every 200 ms (node i at phase 2i ms), whose
// heartbeats reach the head when `arrival` says, checked every 20 ms as the head does.
struct cluster_fixture : fixture {
  static constexpr int count = 100;
  using when = std::function<std::optional<time_point>(int node, time_point sent)>;

  cluster_fixture() {
    for (int i = 0; i < count; ++i) registered(node(id(i), "node-" + std::to_string(i), 1), t0);
  }
  static std::string id(int i) { return "n" + std::to_string(i); }
  // Milliseconds from `from` to `to`, printable in a failed check.
  static long long ms_between(time_point from, time_point to) {
    return std::chrono::duration_cast<ms>(to - from).count();
  }

  // Runs the cluster up to `until`; a heartbeat sent at `sent` arrives at `arrival(node,
  // sent)`, or never. Returns every state change, by the checks' times.
  std::vector<std::pair<time_point, membership::state_change>> run(time_point until,
                                                                   const when& arrival) {
    struct delivery {
      time_point at;
      int node;
      uint64_t sequence;
    };
    std::vector<delivery> deliveries;
    for (int i = 0; i < count; ++i) {
      uint64_t sequence = 0;
      for (auto sent = t0 + ms(2 * i); sent <= until; sent += ms(200))
        if (auto at = arrival(i, sent); ++sequence && at) deliveries.push_back({*at, i, sequence});
    }
    std::stable_sort(deliveries.begin(), deliveries.end(),
                     [](const delivery& a, const delivery& b) { return a.at < b.at; });
    std::vector<std::pair<time_point, membership::state_change>> changes;
    auto next = deliveries.begin();
    for (auto check = t0; check <= until; check += ms(20)) {
      for (; next != deliveries.end() && next->at <= check; ++next)
        nodes.on_heartbeat("p", beat(id(next->node), 1, next->sequence), next->at);
      for (auto& change : nodes.evaluate(check)) changes.emplace_back(check, change);
    }
    return changes;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(membership_registry)

BOOST_FIXTURE_TEST_CASE(a_registered_node_is_alive, fixture) {
  BOOST_TEST(registered(node("a", "node-a", 1), t0));
  BOOST_TEST(state_of("a", t0) == node_state::alive);
  BOOST_TEST(nodes.summary().nodes_alive == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_silent_node_becomes_suspect_then_dead, fixture) {
  registered(node("a", "node-a", 1), t0);
  BOOST_TEST(nodes.evaluate(t0 + ms(400)).empty());
  auto suspect = nodes.evaluate(t0 + ms(600));
  BOOST_TEST_REQUIRE(suspect.size() == 1u);
  BOOST_TEST(suspect[0].to == node_state::suspect);
  auto dead = nodes.evaluate(t0 + ms(900));
  BOOST_TEST_REQUIRE(dead.size() == 1u);
  BOOST_TEST(*dead[0].from == node_state::suspect);
  BOOST_TEST(dead[0].to == node_state::dead);
}

BOOST_FIXTURE_TEST_CASE(a_node_is_not_suspected_before_its_registration_is_answered, fixture) {
  nodes.on_register("p", node("a", "node-a", 1), t0);
  // The answer waits behind a burst of other registrations' store writes.
  BOOST_TEST(nodes.evaluate(t0 + ms(3000)).empty());
  nodes.registration_answered("a", 1, t0 + ms(3000));
  BOOST_TEST(nodes.evaluate(t0 + ms(3400)).empty());
  nodes.on_heartbeat("p", beat("a", 1, 1), t0 + ms(3210));
  BOOST_TEST(nodes.evaluate(t0 + ms(3500)).empty());
  BOOST_TEST(state_of("a", t0 + ms(3500)) == node_state::alive);
}

BOOST_FIXTURE_TEST_CASE(an_answered_registration_that_is_never_followed_by_heartbeats_dies,
                        fixture) {
  nodes.on_register("p", node("a", "node-a", 1), t0);
  nodes.registration_answered("a", 1, t0 + ms(3000));
  auto changes = nodes.evaluate(t0 + ms(3900));
  BOOST_TEST_REQUIRE(changes.size() == 2u);
  BOOST_TEST(changes[1].to == node_state::dead);
}

BOOST_FIXTURE_TEST_CASE(a_heartbeating_node_stays_alive, fixture) {
  registered(node("a", "node-a", 1), t0);
  keep_beating("a", 1, t0 + ms(5000));
  BOOST_TEST(nodes.evaluate(t0 + ms(5100)).empty());
  BOOST_TEST(state_of("a", t0 + ms(5100)) == node_state::alive);
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_revives_a_suspect, fixture) {
  registered(node("a", "node-a", 1), t0);
  nodes.evaluate(t0 + ms(600));
  auto result = nodes.on_heartbeat("p", beat("a", 1, 1), t0 + ms(650));
  BOOST_TEST(!result.rejected);
  BOOST_TEST_REQUIRE(result.change.has_value());
  BOOST_TEST(result.change->to == node_state::alive);
}

BOOST_FIXTURE_TEST_CASE(a_dead_incarnation_is_told_so_and_comes_back_as_a_new_one, fixture) {
  registered(node("a", "node-a", 1), t0);
  nodes.evaluate(t0 + ms(2000));
  auto late = nodes.on_heartbeat("p", beat("a", 1, 1), t0 + ms(2100));
  BOOST_TEST_REQUIRE(late.rejected.has_value());
  BOOST_TEST(late.rejected->reason == reason::declared_dead);
  auto again = nodes.on_register("p", node("a", "node-a", 1), t0 + ms(2150));
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::heartbeat_rejected>(again.reply));
  BOOST_TEST(std::get<msg::heartbeat_rejected>(again.reply).reason == reason::declared_dead);
  BOOST_TEST(registered(node("a", "node-a", 2), t0 + ms(2200)));
  BOOST_TEST(state_of("a", t0 + ms(2200)) == node_state::alive);
  BOOST_TEST(nodes.find("a")->info.incarnation == 2u);
}

BOOST_FIXTURE_TEST_CASE(messages_from_an_older_incarnation_are_refused, fixture) {
  registered(node("a", "node-a", 5), t0);
  auto old = nodes.on_heartbeat("p", beat("a", 4, 9), t0 + ms(100));
  BOOST_TEST_REQUIRE(old.rejected.has_value());
  BOOST_TEST(old.rejected->reason == reason::stale_incarnation);
  BOOST_TEST(old.rejected->known_incarnation == 5u);
  BOOST_TEST(!registered(node("a", "node-a", 4), t0 + ms(100)));
  BOOST_TEST(!nodes.on_deregister({"a", 4, "old"}, t0 + ms(100)).has_value());
  BOOST_TEST(state_of("a", t0 + ms(100)) == node_state::alive);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_node_is_asked_to_register, fixture) {
  auto result = nodes.on_heartbeat("p", beat("x", 1, 1), t0);
  BOOST_TEST_REQUIRE(result.rejected.has_value());
  BOOST_TEST(result.rejected->reason == reason::unknown_node);
}

BOOST_FIXTURE_TEST_CASE(deregistration_means_left_not_dead, fixture) {
  registered(node("a", "node-a", 1), t0);
  auto change = nodes.on_deregister({"a", 1, "shutdown"}, t0 + ms(100));
  BOOST_TEST_REQUIRE(change.has_value());
  BOOST_TEST(change->to == node_state::left);
  BOOST_TEST(nodes.evaluate(t0 + ms(5000)).empty());
  BOOST_TEST(state_of("a", t0 + ms(5000)) == node_state::left);
}

BOOST_FIXTURE_TEST_CASE(a_live_name_cannot_be_taken_by_another_node, fixture) {
  registered(node("a", "same", 1), t0);
  auto clash = nodes.on_register("q", node("b", "same", 1), t0);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(clash.reply));
  BOOST_TEST(std::get<msg::error>(clash.reply).code == msg::error_code::conflict);
  nodes.on_deregister({"a", 1, "bye"}, t0 + ms(10));
  BOOST_TEST(registered(node("b", "same", 1), t0 + ms(20)));
  BOOST_TEST(nodes.size() == 2u);  // the old node stays listed as left
}

BOOST_FIXTURE_TEST_CASE(a_stale_incarnation_is_told_so_before_its_name_is_checked, fixture) {
  registered(node("a", "node-a", 5), t0);
  registered(node("b", "taken", 1), t0);
  auto stale = nodes.on_register("p", node("a", "taken", 4), t0 + ms(10));
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::heartbeat_rejected>(stale.reply));
  BOOST_TEST(std::get<msg::heartbeat_rejected>(stale.reply).reason == reason::stale_incarnation);
  nodes.evaluate(t0 + ms(2000));
  registered(node("c", "taken", 1), t0 + ms(2000));
  auto dead = nodes.on_register("p", node("a", "taken", 5), t0 + ms(2010));
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::heartbeat_rejected>(dead.reply));
  BOOST_TEST(std::get<msg::heartbeat_rejected>(dead.reply).reason == reason::declared_dead);
}

BOOST_FIXTURE_TEST_CASE(a_dead_node_stays_listed_when_another_node_takes_its_name, fixture) {
  registered(node("a", "same", 1), t0);
  nodes.evaluate(t0 + ms(2000));
  BOOST_TEST(registered(node("b", "same", 1), t0 + ms(2000)));
  BOOST_TEST_REQUIRE(nodes.find("a") != nullptr);
  BOOST_TEST(state_of("a", t0 + ms(2000)) == node_state::dead);
  BOOST_TEST(nodes.list(t0 + ms(2000)).nodes.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(registering_twice_is_idempotent, fixture) {
  BOOST_TEST(registered(node("a", "node-a", 1), t0));
  auto again = nodes.on_register("p2", node("a", "node-a", 1), t0 + ms(50));
  BOOST_TEST(std::holds_alternative<msg::register_node_reply>(again.reply));
  BOOST_TEST(!again.change.has_value());
  BOOST_TEST(nodes.find("a")->peer == "p2");
}

BOOST_FIXTURE_TEST_CASE(draining_is_reported_and_survives_a_new_incarnation, fixture) {
  registered(node("a", "node-a", 1), t0);
  BOOST_TEST(std::holds_alternative<const node_entry*>(nodes.set_draining("node-a", true)));
  BOOST_TEST(state_of("a", t0) == node_state::draining);
  BOOST_TEST(nodes.summary().nodes_draining == 1u);
  BOOST_TEST(nodes.summary().available.cpus == 0.0);
  registered(node("a", "node-a", 2), t0 + ms(10));
  BOOST_TEST(state_of("a", t0 + ms(10)) == node_state::draining);
  nodes.set_draining("a", false);
  BOOST_TEST(state_of("a", t0 + ms(20)) == node_state::alive);
}

BOOST_FIXTURE_TEST_CASE(a_drain_does_not_reset_the_time_since_the_last_liveness_change, fixture) {
  registered(node("a", "node-a", 1), t0);
  keep_beating("a", 1, t0 + ms(1000));
  nodes.set_draining("a", true);
  auto drained = nodes.status_of(*nodes.find("a"), t0 + ms(1000));
  BOOST_TEST(drained.state == node_state::draining);
  BOOST_TEST(drained.state_since_ms_ago == 1000u);
  nodes.set_draining("a", false);
  BOOST_TEST(nodes.status_of(*nodes.find("a"), t0 + ms(1000)).state_since_ms_ago == 1000u);
}

BOOST_FIXTURE_TEST_CASE(the_total_sums_registered_resources_and_available_sums_free_ones, fixture) {
  auto gpu_node = node("a", "node-a", 1);
  gpu_node.resources.gpus = {{0, "gpu", 1024}, {1, "gpu", 1024}};
  registered(gpu_node, t0);
  registered(node("b", "node-b", 1), t0);
  auto busy = beat("a", 1, 1);
  busy.free = {1, 1024, 0};
  nodes.on_heartbeat("p", busy, t0 + ms(100));
  nodes.set_draining("b", true);
  auto s = nodes.summary();
  BOOST_TEST(s.total.cpus == 8.0);
  BOOST_TEST(s.total.memory_mb == 16384u);
  BOOST_TEST(s.total.gpus == 2u);
  BOOST_TEST(s.available.cpus == 1.0);
  BOOST_TEST(s.available.memory_mb == 1024u);
  BOOST_TEST(s.available.gpus == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_overtaken_by_a_newer_one_is_no_sign_of_life, fixture) {
  registered(node("a", "node-a", 1), t0);
  nodes.on_heartbeat("p", beat("a", 1, 2), t0 + ms(200));
  auto overtaken = nodes.on_heartbeat("p", beat("a", 1, 1), t0 + ms(400));
  BOOST_TEST(!overtaken.rejected);
  BOOST_TEST(nodes.status_of(*nodes.find("a"), t0 + ms(400)).last_heartbeat_ms_ago == 200u);
}

BOOST_FIXTURE_TEST_CASE(draining_an_unknown_node_is_not_found, fixture) {
  auto result = nodes.set_draining("nobody", true);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(result));
  BOOST_TEST(std::get<msg::error>(result).code == msg::error_code::not_found);
}

BOOST_FIXTURE_TEST_CASE(only_a_dead_or_left_node_can_be_removed, fixture) {
  registered(node("a", "node-a", 1), t0);
  auto live = nodes.removable("node-a");
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(live));
  BOOST_TEST(std::get<msg::error>(live).code == msg::error_code::conflict);
  nodes.evaluate(t0 + ms(2000));
  auto dead = nodes.removable("node-a");
  BOOST_TEST_REQUIRE(std::holds_alternative<const node_entry*>(dead));
  nodes.erase(std::get<const node_entry*>(dead)->info.node_id);
  BOOST_TEST(nodes.size() == 0u);
  BOOST_TEST(std::holds_alternative<msg::error>(nodes.removable("node-a")));
}

BOOST_FIXTURE_TEST_CASE(a_name_shared_by_finished_nodes_needs_the_id, fixture) {
  registered(node("a", "same", 1), t0);
  nodes.on_deregister({"a", 1, "bye"}, t0);
  registered(node("b", "same", 1), t0);
  nodes.on_deregister({"b", 1, "bye"}, t0);
  auto ambiguous = nodes.removable("same");
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(ambiguous));
  BOOST_TEST(std::get<msg::error>(ambiguous).message.find("give the node id") != std::string::npos);
  BOOST_TEST(std::holds_alternative<const node_entry*>(nodes.removable("b")));
}

BOOST_FIXTURE_TEST_CASE(a_stall_of_the_head_is_not_blamed_on_nodes, fixture) {
  registered(node("a", "node-a", 1), t0);
  nodes.forgive_stall(ms(5000), t0 + ms(5050));
  BOOST_TEST(nodes.evaluate(t0 + ms(5100)).empty());
  BOOST_TEST(nodes.status_of(*nodes.find("a"), t0 + ms(5100)).last_heartbeat_ms_ago == 100u);
}

BOOST_FIXTURE_TEST_CASE(a_restored_node_must_heartbeat_or_be_declared_dead, fixture) {
  registered(node("a", "node-a", 1), t0);
  registered(node("b", "node-b", 1), t0);
  membership::registry restarted{detector, 200, "head-id"};
  auto t1 = t0 + ms(10000);
  restarted.restore(*nodes.find("a"), t1, ms(1000));
  restarted.restore(*nodes.find("b"), t1, ms(1000));
  BOOST_TEST(restarted.evaluate(t1 + ms(1500)).empty());  // within the grace, nobody is blamed
  uint64_t seq = 1;
  for (auto t = t1 + ms(900); t <= t1 + ms(3000); t += ms(200))
    BOOST_TEST(!restarted.on_heartbeat("p", beat("a", 1, seq++), t).rejected);
  restarted.evaluate(t1 + ms(3000));
  BOOST_TEST(restarted.status_of(*restarted.find("a"), t1 + ms(3000)).state == node_state::alive);
  BOOST_TEST(restarted.status_of(*restarted.find("b"), t1 + ms(3000)).state == node_state::dead);
}

BOOST_FIXTURE_TEST_CASE(a_stall_of_the_head_during_the_restore_grace_keeps_the_grace, fixture) {
  registered(node("a", "node-a", 1), t0);
  membership::registry restarted{detector, 200, "head-id"};
  auto t1 = t0 + ms(10000);
  restarted.restore(*nodes.find("a"), t1, ms(3000));
  restarted.forgive_stall(ms(500), t1 + ms(500));
  BOOST_TEST(restarted.evaluate(t1 + ms(1500)).empty());
}

BOOST_FIXTURE_TEST_CASE(the_head_node_is_marked, fixture) {
  registered(node("head-id", "head", 1), t0);
  registered(node("a", "node-a", 1), t0);
  auto list = nodes.list(t0);
  BOOST_TEST_REQUIRE(list.nodes.size() == 2u);
  for (const auto& n : list.nodes) BOOST_TEST(n.is_head == (n.node_id == "head-id"));
}

BOOST_FIXTURE_TEST_CASE(many_nodes_late_at_once_because_the_head_read_nothing_are_not_suspected,
                        cluster_fixture) {
  // From 2 s on, the head's receive path is starved for 1.5 s (a burst of CURVE handshakes
  // on a busy machine): what was sent meanwhile is read at its end.
  const auto stall_from = t0 + ms(2000), stall_to = t0 + ms(3500);
  auto changes = run(t0 + ms(8000), [&](int, time_point sent) -> std::optional<time_point> {
    return sent >= stall_from && sent < stall_to ? stall_to : sent;
  });
  BOOST_TEST(changes.empty());
  BOOST_TEST(nodes.last_observation().forgiven.count() == 0);  // it ended with the trouble
}

BOOST_FIXTURE_TEST_CASE(a_lone_silent_node_among_many_is_declared_dead_as_usual, cluster_fixture) {
  const auto stop = t0 + ms(2000);
  auto changes = run(t0 + ms(4000), [&](int node, time_point sent) -> std::optional<time_point> {
    if (node == 7 && sent >= stop) return std::nullopt;
    return sent;
  });
  BOOST_TEST_REQUIRE(changes.size() == 2u);
  BOOST_TEST(changes[1].second.node_id == "n7");
  BOOST_TEST(changes[1].second.to == node_state::dead);
  // Its last heartbeat was sent before `stop`: dead at most 760 ms and a check later.
  BOOST_TEST(ms_between(stop, changes[1].first) <= 800);
  BOOST_TEST(nodes.last_observation().forgiven.count() == 0);
}

BOOST_FIXTURE_TEST_CASE(many_nodes_that_really_stop_at_once_are_declared_dead_a_pause_later,
                        cluster_fixture) {
  const auto stop = t0 + ms(2000);
  auto changes = run(t0 + ms(8000), [&](int node, time_point sent) -> std::optional<time_point> {
    if (node < 20 && sent >= stop) return std::nullopt;
    return sent;
  });
  const long long pause_ms = ms(membership::shared_lateness::longest_pause).count();
  size_t dead = 0;
  for (const auto& [at, change] : changes) {
    BOOST_TEST(ms_between(stop, at) >= pause_ms);
    if (change.to == node_state::dead) {
      ++dead;
      BOOST_TEST(ms_between(stop, at) <= pause_ms + 800);
    }
  }
  BOOST_TEST(dead == 20u);
}

BOOST_FIXTURE_TEST_CASE(a_small_cluster_whose_nodes_all_stop_is_judged_as_usual, fixture) {
  for (int i = 0; i < 7; ++i)
    registered(node("s" + std::to_string(i), "s-" + std::to_string(i), 1), t0);
  auto changes = nodes.evaluate(t0 + ms(900));
  BOOST_TEST(changes.size() == 14u);  // each suspect, then dead
  BOOST_TEST(nodes.last_observation().forgiven.count() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
