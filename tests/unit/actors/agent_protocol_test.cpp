// The node agent's protocol logic on its own: messages and clock readings in, actions out.
#include <boost/test/unit_test.hpp>

#include "actors/node_agent/agent_protocol.hpp"
#include "messages/print.hpp"

using namespace troupe;
using namespace troupe::node_agent;
using ms = std::chrono::milliseconds;
using reason = msg::heartbeat_reject_reason;

namespace {

struct fixture {
  clock::time_point t0 = clock::now();
  std::vector<std::variant<uint64_t, std::string>> incarnations_to_take{uint64_t{2}};
  agent_protocol agent{
      node_description{"id-a", "node-a", {2, 1024, {}}, {{"zone", "a"}}, {"host-a"}, "1.2.3"}, 1,
      [this] {
        auto next = incarnations_to_take.front();
        incarnations_to_take.erase(incarnations_to_take.begin());
        return next;
      },
      50, t0};

  // A message from the head that answers no request of this round.
  static msg::envelope from_head(msg::body body) {
    msg::envelope env;
    env.sender = "head";
    env.body = std::move(body);
    return env;
  }

  static msg::envelope reply(const msg::envelope& request, msg::body body) {
    return msg::reply_to(request, "head", std::move(body));
  }

  // The one envelope `actions` sends, which must hold a `T`.
  template <class T>
  static std::pair<msg::envelope, T> only(const agent_actions& actions) {
    BOOST_TEST_REQUIRE(actions.send.size() == 1u);
    const auto& env = actions.send[0];
    BOOST_TEST_REQUIRE(std::holds_alternative<T>(env.body));
    return {env, std::get<T>(env.body)};
  }

  // Registers at t0 with a heartbeat interval of 100 ms; returns the registration.
  msg::envelope registered() {
    auto [request, body] = only<msg::register_node_request>(agent.on_tick(t0, {}));
    agent.on_message(reply(request, msg::register_node_reply{100, false}), t0);
    BOOST_TEST_REQUIRE(agent.registered());
    return request;
  }

  // When on_tick is next due, in ms after t0.
  long due_ms() const {
    BOOST_TEST_REQUIRE(agent.next_due().has_value());
    return std::chrono::duration_cast<ms>(*agent.next_due() - t0).count();
  }

  msg::heartbeat beat_at(clock::time_point now) {
    return only<msg::heartbeat>(agent.on_tick(now, {})).second;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_protocol)

BOOST_FIXTURE_TEST_CASE(the_first_registration_is_sent_when_due_and_describes_the_node, fixture) {
  BOOST_TEST(agent.on_tick(t0 - ms(1), {}).send.empty());
  auto [env, request] = only<msg::register_node_request>(agent.on_tick(t0, {}));
  BOOST_TEST(env.sender == "id-a");
  BOOST_TEST(env.request_id == 1u);
  BOOST_TEST(request.node_id == "id-a");
  BOOST_TEST(request.name == "node-a");
  BOOST_TEST(request.incarnation == 1u);
  BOOST_TEST((request.resources == msg::resources{2, 1024, {}}));
  BOOST_TEST(request.labels.at("zone") == "a");
  BOOST_TEST(request.addresses == std::vector<std::string>{"host-a"});
  BOOST_TEST(request.version == "1.2.3");
}

BOOST_FIXTURE_TEST_CASE(an_unanswered_registration_is_resent_with_backoff_up_to_2_s, fixture) {
  agent.on_tick(t0, {});
  auto now = t0;
  std::vector<long> waits;
  for (int i = 0; i < 8; ++i) {
    auto due = *agent.next_due();
    waits.push_back(std::chrono::duration_cast<ms>(due - now).count());
    BOOST_TEST(agent.on_tick(due - ms(1), {}).send.empty());
    auto [env, request] = only<msg::register_node_request>(agent.on_tick(due, {}));
    BOOST_TEST(request.incarnation == 1u);
    now = due;
  }
  BOOST_TEST(waits == (std::vector<long>{50, 100, 200, 400, 800, 1600, 2000, 2000}));
}

BOOST_FIXTURE_TEST_CASE(a_reply_starts_heartbeats_at_once_then_every_interval, fixture) {
  registered();
  BOOST_TEST(due_ms() == 0);
  msg::node_load load{0.5, 300, 0};
  auto [env, first] = only<msg::heartbeat>(agent.on_tick(t0, load));
  BOOST_TEST(first.node_id == "id-a");
  BOOST_TEST(first.incarnation == 1u);
  BOOST_TEST(first.sequence == 1u);
  BOOST_TEST((first.load == load));
  BOOST_TEST((first.free == msg::free_resources{2, 1024, 0}));
  BOOST_TEST(due_ms() == 100);
  BOOST_TEST(beat_at(t0 + ms(100)).sequence == 2u);
  BOOST_TEST(due_ms() == 200);
}

BOOST_FIXTURE_TEST_CASE(heartbeats_keep_their_schedule_and_start_afresh_after_a_stall, fixture) {
  registered();
  beat_at(t0);
  beat_at(t0 + ms(130));  // late, but the next stays on the schedule
  BOOST_TEST(due_ms() == 200);
  beat_at(t0 + ms(750));  // several intervals missed: one beat, then a fresh start
  BOOST_TEST(due_ms() == 850);
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_interval_under_10_ms_is_raised_to_10_ms, fixture) {
  auto [request, body] = only<msg::register_node_request>(agent.on_tick(t0, {}));
  agent.on_message(reply(request, msg::register_node_reply{1, false}), t0);
  beat_at(t0);
  BOOST_TEST(due_ms() == 10);
}

BOOST_FIXTURE_TEST_CASE(a_duplicate_reply_changes_nothing, fixture) {
  auto request = registered();
  beat_at(t0);
  auto actions = agent.on_message(reply(request, msg::register_node_reply{100, false}), t0);
  BOOST_TEST(actions.send.empty());
  BOOST_TEST(actions.log.empty());
  BOOST_TEST(due_ms() == 100);
}

BOOST_FIXTURE_TEST_CASE(the_registration_is_logged_with_the_drain_flag, fixture) {
  auto [request, body] = only<msg::register_node_request>(agent.on_tick(t0, {}));
  auto actions = agent.on_message(reply(request, msg::register_node_reply{100, true}), t0);
  BOOST_TEST_REQUIRE(actions.log.size() == 1u);
  BOOST_TEST(actions.log[0].text == "registered as node-a (id-a) incarnation 1, draining");
}

BOOST_FIXTURE_TEST_CASE(declared_dead_it_registers_a_new_incarnation_with_a_fresh_sequence,
                        fixture) {
  registered();
  beat_at(t0);
  beat_at(t0 + ms(100));
  auto now = t0 + ms(150);
  auto actions =
      agent.on_message(from_head(msg::heartbeat_rejected{reason::declared_dead, 1}), now);
  auto [request, body] = only<msg::register_node_request>(actions);
  BOOST_TEST(body.incarnation == 2u);
  BOOST_TEST(!agent.registered());
  BOOST_TEST(due_ms() == 200);
  agent.on_message(reply(request, msg::register_node_reply{100, false}), now);
  auto beat = beat_at(now);
  BOOST_TEST(beat.incarnation == 2u);
  BOOST_TEST(beat.sequence == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_reply_to_an_earlier_round_of_registration_is_ignored, fixture) {
  auto [first, body] = only<msg::register_node_request>(agent.on_tick(t0, {}));
  // The registration is answered "declared dead" (an old incarnation the head saw die).
  auto again = only<msg::register_node_request>(
      agent.on_message(reply(first, msg::heartbeat_rejected{reason::declared_dead, 1}), t0));
  agent.on_message(reply(first, msg::register_node_reply{100, false}), t0);
  BOOST_TEST(!agent.registered());
  agent.on_message(reply(again.first, msg::register_node_reply{100, false}), t0);
  BOOST_TEST(agent.registered());
  BOOST_TEST(agent.incarnation() == 2u);
}

BOOST_FIXTURE_TEST_CASE(declared_dead_about_an_earlier_incarnation_is_ignored, fixture) {
  registered();
  auto actions = agent.on_message(from_head(msg::heartbeat_rejected{reason::declared_dead, 0}), t0);
  BOOST_TEST(actions.send.empty());
  BOOST_TEST(agent.registered());
  BOOST_TEST(agent.incarnation() == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_node_registers_again_as_the_same_incarnation, fixture) {
  registered();
  beat_at(t0);
  auto actions = agent.on_message(from_head(msg::heartbeat_rejected{reason::unknown_node, 0}), t0);
  BOOST_TEST(only<msg::register_node_request>(actions).second.incarnation == 1u);
  BOOST_TEST(!agent.registered());
  // While registering, more of the same (answers to earlier heartbeats) change nothing.
  auto more = agent.on_message(from_head(msg::heartbeat_rejected{reason::unknown_node, 0}), t0);
  BOOST_TEST(more.send.empty());
}

BOOST_FIXTURE_TEST_CASE(a_stale_incarnation_halts_and_asks_the_daemon_to_exit_with_1, fixture) {
  registered();
  auto actions =
      agent.on_message(from_head(msg::heartbeat_rejected{reason::stale_incarnation, 7}), t0);
  BOOST_TEST(actions.send.empty());
  BOOST_TEST_REQUIRE(actions.exit_code.has_value());
  BOOST_TEST(*actions.exit_code == 1);
  BOOST_TEST_REQUIRE(actions.log.size() == 1u);
  BOOST_TEST((actions.log[0].level == log_line::level::error));
  BOOST_TEST(actions.log[0].text.find("incarnation 7 of this node id is registered") == 0u);
  BOOST_TEST(!agent.next_due().has_value());
  BOOST_TEST(!agent.registered());
}

BOOST_FIXTURE_TEST_CASE(a_new_incarnation_that_cannot_be_stored_halts_with_exit_code_1, fixture) {
  incarnations_to_take = {std::string("disk full")};
  registered();
  auto actions = agent.on_message(from_head(msg::heartbeat_rejected{reason::declared_dead, 1}), t0);
  BOOST_TEST(actions.send.empty());
  BOOST_TEST(actions.exit_code.value_or(0) == 1);
  BOOST_TEST_REQUIRE(actions.log.size() == 1u);
  BOOST_TEST(actions.log[0].text == "cannot take a new incarnation: disk full; stopping");
  BOOST_TEST(!agent.next_due().has_value());
}

BOOST_FIXTURE_TEST_CASE(halted_it_ignores_the_head, fixture) {
  auto [request, body] = only<msg::register_node_request>(agent.on_tick(t0, {}));
  agent.on_message(reply(request, msg::heartbeat_rejected{reason::stale_incarnation, 7}), t0);
  auto late = agent.on_message(reply(request, msg::register_node_reply{100, false}), t0);
  BOOST_TEST(late.send.empty());
  BOOST_TEST(!agent.registered());
  BOOST_TEST(!agent.next_due().has_value());
}

BOOST_FIXTURE_TEST_CASE(an_error_is_logged_and_the_registration_retry_stays_due, fixture) {
  auto [request, body] = only<msg::register_node_request>(agent.on_tick(t0, {}));
  auto actions = agent.on_message(
      reply(request, msg::error{msg::error_code::conflict, "name node-a is taken"}), t0);
  BOOST_TEST(actions.send.empty());
  BOOST_TEST_REQUIRE(actions.log.size() == 1u);
  BOOST_TEST(actions.log[0].text == "the head refused: name node-a is taken (conflict)");
  BOOST_TEST(due_ms() == 50);
}

BOOST_FIXTURE_TEST_CASE(stop_deregisters_the_current_incarnation_and_ends_everything, fixture) {
  registered();
  auto [env, bye] = only<msg::deregister_node>(agent.stop());
  BOOST_TEST(bye.node_id == "id-a");
  BOOST_TEST(bye.incarnation == 1u);
  BOOST_TEST(bye.reason == "shutdown");
  BOOST_TEST(!agent.next_due().has_value());
  BOOST_TEST(agent.on_tick(t0 + ms(1000), {}).send.empty());
  BOOST_TEST(
      agent
          .on_message(
              msg::envelope{1, 0, "head", msg::heartbeat_rejected{reason::declared_dead, 1}}, t0)
          .send.empty());
}

BOOST_FIXTURE_TEST_CASE(stop_while_registering_still_deregisters, fixture) {
  agent.on_tick(t0, {});
  BOOST_TEST(only<msg::deregister_node>(agent.stop()).second.incarnation == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
