// The head forgives nodes only a stall of its whole process, never a busy actor.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "actors/membership/process_stall.hpp"

using troupe::membership::process_stall_clock;
using troupe::membership::stall_ledger;
using ms = std::chrono::milliseconds;
using namespace std::chrono_literals;

namespace {

int64_t stalled_ms(const stall_ledger& ledger, stall_ledger::clock::time_point now) {
  return std::chrono::duration_cast<ms>(ledger.stalled(now)).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(process_stall)

BOOST_AUTO_TEST_CASE(punctual_and_slightly_late_wake_ups_are_no_stall) {
  auto t0 = stall_ledger::clock::now();
  stall_ledger ledger(ms(20), ms(200), t0);
  auto t = t0;
  for (int i = 1; i <= 50; ++i) {
    t += ms(20) + (i % 5 == 0 ? ms(150) : ms(0));  // every fifth one 150 ms late
    ledger.woke(t);
  }
  BOOST_TEST(ledger.stalled(t + ms(10)).count() == 0);
}

BOOST_AUTO_TEST_CASE(a_late_wake_up_counts_whole_and_once) {
  auto t0 = stall_ledger::clock::now();
  stall_ledger ledger(ms(20), ms(200), t0);
  ledger.woke(t0 + ms(20));
  // The process resumed at t0 + 5 s; the watching thread has not woken yet.
  BOOST_TEST(stalled_ms(ledger, t0 + ms(5000)) == 4960);
  ledger.woke(t0 + ms(5010));
  BOOST_TEST(stalled_ms(ledger, t0 + ms(5010)) == 4970);
  ledger.woke(t0 + ms(5030));
  BOOST_TEST(stalled_ms(ledger, t0 + ms(5040)) == 4970);
}

BOOST_AUTO_TEST_CASE(a_busy_thread_is_not_a_stall_of_the_process) {
  process_stall_clock clock(ms(20), ms(200));
  // What a flooded actor does: keep a core busy for a while.
  auto until = process_stall_clock::clock::now() + 800ms;
  volatile uint64_t spins = 0;
  while (process_stall_clock::clock::now() < until) spins = spins + 1;
  BOOST_TEST(clock.stalled(process_stall_clock::clock::now()).count() == 0);
}

// Reads `size` bytes from `fd` within 5 s; returns whether it did.
bool read_within_5s(int fd, void* out, size_t size) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 5000) == 1 && ::read(fd, out, size) == static_cast<ssize_t>(size);
}

BOOST_AUTO_TEST_CASE(a_stopped_process_is_a_stall) {
  int to_child[2], from_child[2];
  BOOST_TEST_REQUIRE(::pipe(to_child) == 0);
  BOOST_TEST_REQUIRE(::pipe(from_child) == 0);
  pid_t child = ::fork();
  if (child == 0) {
    // The child watches itself, and reports its stall once the parent stopped and resumed it.
    process_stall_clock clock(ms(20), ms(200));
    char byte = 'r';
    (void)!::write(from_child[1], &byte, 1);
    (void)!::read(to_child[0], &byte, 1);
    int64_t stalled =
        std::chrono::duration_cast<ms>(clock.stalled(process_stall_clock::clock::now())).count();
    (void)!::write(from_child[1], &stalled, sizeof stalled);
    ::_exit(0);
  }
  char byte = 0;
  BOOST_TEST_REQUIRE(read_within_5s(from_child[0], &byte, 1));
  ::kill(child, SIGSTOP);
  std::this_thread::sleep_for(1s);
  ::kill(child, SIGCONT);
  (void)!::write(to_child[1], &byte, 1);
  int64_t stalled = -1;
  bool answered = read_within_5s(from_child[0], &stalled, sizeof stalled);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
  BOOST_TEST_REQUIRE(answered);
  BOOST_TEST(stalled > 0);
}

BOOST_AUTO_TEST_SUITE_END()
