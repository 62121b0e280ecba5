// The metrics log's actor (actors/training/metrics_keeper.hpp) over a real SQLite store behind
// the fault seam: a write the store fails is retried until it lands, readers see what waits,
// and a keeper that stops stores what waits.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <thread>

#include "actors/training/metrics_keeper.hpp"
#include "cluster/store/faulty_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace troupe::training {
namespace {

using namespace std::chrono_literals;
using mode = store::faulty_store::mode;

msg::metrics_report report(uint64_t step) {
  return {"j1.0.1", {{1, step, 0.5, 0.05, 1000, 1'796'000'000'000}}, {}};
}

struct fixture {
  test::temp_dir dir{"troupe-metrics-keeper"};
  std::shared_ptr<store::cluster_store> real =
      store::open_store("sqlite://" + dir.path() + "/troupe.db");
  std::shared_ptr<store::faulty_store> faults = std::make_shared<store::faulty_store>(real);
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system = std::make_unique<caf::actor_system>(cfg);
  caf::actor keeper;

  ~fixture() {
    faults->set(mode::working);  // releases a stalled call
    stop();
    system.reset();
  }

  void start(std::chrono::milliseconds flush_interval) {
    keeper = spawn_metrics_keeper(*system, faults, {100, flush_interval});
  }
  void put(uint64_t step) {
    caf::anon_send(keeper, caf::put_atom::value, std::string("j1"), report(step));
  }
  // Stops the keeper and waits (at most 5 s) until it has.
  void stop() {
    if (!keeper) return;
    caf::scoped_actor self{*system};
    self->monitor(keeper);
    caf::anon_send_exit(keeper, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {},
                  caf::after(5s) >> [] { BOOST_FAIL("the keeper did not stop"); });
    keeper = nullptr;
  }
  std::vector<msg::metric_entry> read() {
    caf::scoped_actor self{*system};
    std::vector<msg::metric_entry> entries;
    self->request(keeper, 5s, caf::get_atom::value, std::string("j1"), uint64_t{0}, uint32_t{100})
        .receive([&](std::vector<msg::metric_entry>& e) { entries = std::move(e); },
                 [&](caf::error& e) { BOOST_FAIL("no answer: " << system->render(e)); });
    return entries;
  }
  // Whether the real store holds `count` entries of j1, polled for at most 5 s.
  bool stored(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (real->metrics().load_metrics("j1", 0, 100).size() == count) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(metrics_keeper, fixture)

BOOST_AUTO_TEST_CASE(entries_the_store_failed_to_take_are_stored_once_it_works_again) {
  start(20ms);
  faults->set(mode::stalling);
  put(1);
  BOOST_TEST_REQUIRE(faults->wait_for_stalled_call(5000ms));  // a flush under way
  put(2);
  faults->set(mode::failing);  // that flush fails; so do its retries
  put(3);
  BOOST_TEST(real->metrics().load_metrics("j1", 0, 100).empty());
  faults->set(mode::working);
  BOOST_TEST(stored(3));
  BOOST_TEST(read().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_reader_sees_entries_before_they_are_stored) {
  start(std::chrono::hours(1));
  put(1);
  put(2);
  BOOST_TEST(read().size() == 2u);
  BOOST_TEST(real->metrics().load_metrics("j1", 0, 100).empty());
}

BOOST_AUTO_TEST_CASE(a_keeper_that_stops_stores_what_waits) {
  start(std::chrono::hours(1));
  put(1);
  put(2);
  BOOST_TEST(read().size() == 2u);  // both arrived
  stop();
  BOOST_TEST(real->metrics().load_metrics("j1", 0, 100).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::training
