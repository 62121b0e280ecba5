// The write-ahead queue (actors/store) against a real SQLite store behind the fault seam,
// which fails, stalls, loses its data and recovers on the test's command.
#define BOOST_TEST_MODULE store_actor
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <caf/all.hpp>
#include <filesystem>
#include <thread>

#include "actors/atoms.hpp"
#include "actors/store/store_actor.hpp"
#include "cluster/store/faulty_store.hpp"

using namespace troupe;
using namespace std::chrono_literals;
using mode = store::faulty_store::mode;

namespace {

namespace fs = std::filesystem;

store::node_record node(const std::string& id, const std::string& state) {
  store::node_record r;
  r.node_id = id;
  r.name = id;
  r.incarnation = 1;
  r.state = state;
  r.addresses_json = r.labels_json = "[]";
  r.resources_json = "{}";
  return r;
}

// A queue over a fresh SQLite file, behind the fault seam.
struct fixture {
  fs::path dir;
  std::shared_ptr<store::cluster_store> real;
  std::shared_ptr<store::faulty_store> faults;
  std::atomic<int> lost_calls{0};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  caf::actor queue;

  fixture() {
    std::string pattern = (fs::temp_directory_path() / "troupe-queue-XXXXXX").string();
    BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
    real = store::open_store("sqlite://" + (dir / "troupe.db").string());
    faults = std::make_shared<store::faulty_store>(real);
    system = std::make_unique<caf::actor_system>(cfg);
    queue = actors::spawn_store_actor(*system, faults, [this] { ++lost_calls; });
  }
  ~fixture() {
    faults->set(mode::working);  // releases a stalled call
    caf::anon_send_exit(queue, caf::exit_reason::user_shutdown);
    queue = nullptr;
    system.reset();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  void write(store::store_write w) { caf::anon_send(queue, actors::store_atom::value, w); }
  void write_later(caf::actor to, store::store_write w) {
    caf::anon_send(to, actors::store_atom::value, actors::later_atom::value,
                   std::vector<store::store_write>{std::move(w)});
  }

  // Asks for a confirmed write; the answer, or a failed test after 5 s.
  bool confirmed(store::store_write w) {
    caf::scoped_actor self{*system};
    bool stored = false;
    self->request(queue, 5s, actors::store_atom::value, actors::confirm_atom::value, w)
        .receive([&](bool answer) { stored = answer; },
                 [&](caf::error& e) { BOOST_FAIL("no answer: " << system->render(e)); });
    return stored;
  }

  // Asks for several writes confirmed as one; the answer, or a failed test after 5 s.
  bool confirmed(std::vector<store::store_write> writes) {
    caf::scoped_actor self{*system};
    bool stored = false;
    self->request(queue, 5s, actors::store_atom::value, actors::confirm_atom::value, writes)
        .receive([&](bool answer) { stored = answer; },
                 [&](caf::error& e) { BOOST_FAIL("no answer: " << system->render(e)); });
    return stored;
  }

  std::map<std::string, std::string> stored_states() {
    std::map<std::string, std::string> now;
    for (const auto& r : real->membership().load_nodes()) now[r.node_id] = r.state;
    return now;
  }

  // The states in the real store, by node id, once `expected` (polled for at most 5 s).
  bool store_holds(const std::map<std::string, std::string>& expected) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::map<std::string, std::string> now;
      for (const auto& r : real->membership().load_nodes()) now[r.node_id] = r.state;
      if (now == expected) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(write_queue, fixture)

BOOST_AUTO_TEST_CASE(a_confirmed_write_is_answered_once_it_is_stored) {
  BOOST_TEST(confirmed(node("n1", "alive")));
  BOOST_TEST(store_holds({{"n1", "alive"}}));
}

BOOST_AUTO_TEST_CASE(writes_made_while_the_store_fails_land_in_order_once_it_recovers) {
  faults->set(mode::failing);
  write(node("n1", "alive"));
  write(node("n2", "alive"));
  write(node("n1", "suspect"));
  write(node("n1", "left"));
  write(store::node_removal{"n2"});
  write(node("n3", "alive"));
  std::this_thread::sleep_for(600ms);  // a few retries fail
  BOOST_TEST(real->membership().load_nodes().empty());
  faults->set(mode::working);
  BOOST_TEST(store_holds({{"n1", "left"}, {"n3", "alive"}}));
}

BOOST_AUTO_TEST_CASE(a_batch_is_confirmed_only_once_every_write_of_it_is_stored) {
  faults->set(mode::stalling);
  write(node("n1", "alive"));
  BOOST_TEST_REQUIRE(faults->wait_for_stalled_call(5s));
  write(node("n2", "alive"));  // queued; the batch below replaces it, moving it to the end
  std::thread release([this] {
    std::this_thread::sleep_for(100ms);
    faults->set(mode::working);
  });
  BOOST_TEST(confirmed({node("n3", "alive"), node("n2", "left")}));
  const auto at_answer = stored_states();
  release.join();
  BOOST_TEST((at_answer == std::map<std::string, std::string>{
                               {"n1", "alive"}, {"n2", "left"}, {"n3", "alive"}}));
}

BOOST_AUTO_TEST_CASE(a_batch_writing_one_row_twice_is_confirmed) {
  BOOST_TEST(confirmed({node("n4", "alive"), node("n4", "left")}));
  BOOST_TEST((stored_states() == std::map<std::string, std::string>{{"n4", "left"}}));
}

BOOST_AUTO_TEST_CASE(a_write_confirmed_while_the_store_fails_is_answered_at_once_and_still_lands) {
  faults->set(mode::failing);
  write(node("n1", "alive"));
  BOOST_TEST(!confirmed(node("n2", "draining")), "the store is failing: not stored yet");
  faults->set(mode::working);
  BOOST_TEST(store_holds({{"n1", "alive"}, {"n2", "draining"}}));
  BOOST_TEST(confirmed(node("n2", "alive")), "a recovered store confirms again");
}

BOOST_AUTO_TEST_CASE(a_stalled_write_that_fails_answers_its_confirmation_and_lands_later) {
  faults->set(mode::stalling);
  caf::scoped_actor self{*system};
  auto answer = self->request(queue, 5s, actors::store_atom::value, actors::confirm_atom::value,
                              store::store_write{node("n1", "left")});
  BOOST_TEST_REQUIRE(faults->wait_for_stalled_call(5s));
  faults->set(mode::failing);  // the stalled call fails, as on a statement timeout
  bool stored = true;
  answer.receive([&](bool a) { stored = a; },
                 [&](caf::error& e) { BOOST_FAIL("no answer: " << system->render(e)); });
  BOOST_TEST(!stored);
  faults->set(mode::working);
  BOOST_TEST(store_holds({{"n1", "left"}}));
}

BOOST_AUTO_TEST_CASE(writes_arriving_during_a_stalled_write_land_together_in_one_transaction) {
  faults->set(mode::stalling);
  write(node("first", "alive"));
  BOOST_TEST_REQUIRE(faults->wait_for_stalled_call(5s));
  std::map<std::string, std::string> expected{{"first", "alive"}};
  for (int i = 0; i < 20; ++i) {
    const auto id = "n" + std::to_string(i);
    write(node(id, "alive"));
    write(node(id, "left"));  // replaces the queued write of the same row
    expected[id] = "left";
  }
  faults->set(mode::working);
  BOOST_TEST(store_holds(expected));
  BOOST_TEST(faults->landed_batches() == 2u, "the stalled write, then every later one together");
}

BOOST_AUTO_TEST_CASE(writes_that_may_wait_land_with_the_next_write_in_one_transaction) {
  // A queue whose writes that may wait would wait an hour for a flush of their own.
  auto patient = actors::spawn_store_actor(
      *system, faults, [] {}, std::chrono::hours(1));
  write_later(patient, node("n1", "alive"));
  write_later(patient, node("n2", "alive"));
  write_later(patient, node("n1", "left"));  // replaces the queued write of the same row
  caf::scoped_actor self{*system};
  bool stored = false;
  self->request(patient, 5s, actors::store_atom::value, actors::confirm_atom::value,
                store::store_write{node("n3", "alive")})
      .receive([&](bool answer) { stored = answer; },
               [&](caf::error& e) { BOOST_FAIL("no answer: " << system->render(e)); });
  BOOST_TEST(stored);
  BOOST_TEST((stored_states() == std::map<std::string, std::string>{
                                     {"n1", "left"}, {"n2", "alive"}, {"n3", "alive"}}));
  BOOST_TEST(faults->landed_batches() == 1u);
  caf::anon_send_exit(patient, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(writes_that_may_wait_land_by_themselves_and_outlast_a_failing_store) {
  write_later(queue, node("n1", "alive"));
  BOOST_TEST(store_holds({{"n1", "alive"}}), "no other write came: they land after the delay");
  faults->set(mode::failing);
  write_later(queue, node("n1", "left"));
  std::this_thread::sleep_for(600ms);  // a few retries fail
  BOOST_TEST(stored_states() == (std::map<std::string, std::string>{{"n1", "alive"}}));
  faults->set(mode::working);
  BOOST_TEST(store_holds({{"n1", "left"}}));
}

BOOST_AUTO_TEST_CASE(a_store_that_loses_its_data_while_idle_calls_on_lost) {
  BOOST_TEST(confirmed(node("n1", "alive")));
  BOOST_TEST(lost_calls == 0);
  faults->set(mode::lost);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (lost_calls == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  BOOST_TEST(lost_calls == 1);
  BOOST_TEST(!confirmed(node("n1", "left")), "nothing is confirmed over a lost store");
}

BOOST_AUTO_TEST_SUITE_END()
