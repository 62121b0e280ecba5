#define BOOST_TEST_MODULE nodes
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>

#include "nodes/trouped/actor_watch.hpp"

using namespace troupe::nodes;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;
using quit_atom = caf::atom_constant<caf::atom("quit")>;

caf::behavior fragile(caf::event_based_actor* self) {
  return {
      [](crash_atom) { throw std::runtime_error("a bug"); },
      [self](quit_atom) { self->quit(); },
  };
}

// A watched actor and the exit code its watch asked for, if any.
struct watched {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system = std::make_unique<caf::actor_system>(cfg);
  std::promise<int> requested;
  std::future<int> request = requested.get_future();
  caf::actor actor = system->spawn(fragile);

  watched() {
    exit_when_it_dies(*system, actor, "fragile", [this](int code) { requested.set_value(code); });
  }

  // Lets the actor system finish (it waits for every actor and joins its threads), then says
  // whether an exit was requested.
  bool exit_requested() {
    actor = nullptr;
    system.reset();
    return request.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(actor_watch)

BOOST_FIXTURE_TEST_CASE(an_actor_that_throws_makes_the_daemon_exit_with_a_failure_code, watched) {
  caf::anon_send(actor, crash_atom::value);
  BOOST_TEST_REQUIRE(exit_requested());
  BOOST_TEST(request.get() == actor_died_exit_code);
}

BOOST_FIXTURE_TEST_CASE(an_actor_killed_with_an_error_makes_the_daemon_exit, watched) {
  caf::anon_send_exit(actor, caf::exit_reason::kill);
  BOOST_TEST(exit_requested());
}

BOOST_FIXTURE_TEST_CASE(an_actor_that_quits_normally_requests_no_exit, watched) {
  caf::anon_send(actor, quit_atom::value);
  BOOST_TEST(!exit_requested());
}

BOOST_FIXTURE_TEST_CASE(an_actor_shut_down_by_the_daemon_requests_no_exit, watched) {
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  BOOST_TEST(!exit_requested());
}

BOOST_AUTO_TEST_SUITE_END()
