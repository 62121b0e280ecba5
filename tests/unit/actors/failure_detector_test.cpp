#include <boost/test/unit_test.hpp>

#include "actors/membership/failure_detector.hpp"

using namespace troupe::membership;
using ms = std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(failure_detector)

BOOST_AUTO_TEST_CASE(phi_grows_with_silence) {
  heartbeat_history h(100, ms(200), ms(100));
  BOOST_TEST(h.phi(ms(100)) < h.phi(ms(300)));
  BOOST_TEST(h.phi(ms(300)) < h.phi(ms(600)));
  BOOST_TEST(h.phi(ms(600)) < h.phi(ms(900)));
}

BOOST_AUTO_TEST_CASE(default_thresholds_match_the_documented_silences) {
  // Defaults: interval 200 ms, deviation floor 100 ms; suspect at phi 3, dead at phi 8.
  heartbeat_history h(100, ms(200), ms(100));
  BOOST_TEST(h.phi(ms(490)) < 3.0);
  BOOST_TEST(h.phi(ms(530)) > 3.0);
  BOOST_TEST(h.phi(ms(740)) < 8.0);
  BOOST_TEST(h.phi(ms(780)) > 8.0);
}

BOOST_AUTO_TEST_CASE(jittery_heartbeats_lengthen_the_timeout) {
  heartbeat_history steady(20, ms(200), ms(10));
  heartbeat_history jittery(20, ms(200), ms(10));
  for (int i = 0; i < 20; ++i) {
    steady.add_interval(ms(200));
    jittery.add_interval(ms(i % 2 ? 50 : 350));
  }
  BOOST_TEST(jittery.std_dev_ms() > steady.std_dev_ms());
  BOOST_TEST(jittery.phi(ms(500)) < steady.phi(ms(500)));
}

BOOST_AUTO_TEST_CASE(the_window_forgets_old_intervals) {
  heartbeat_history h(4, ms(200), ms(1));
  for (int i = 0; i < 4; ++i) h.add_interval(ms(1000));
  BOOST_TEST(h.mean_ms() == 1000.0, boost::test_tools::tolerance(1e-9));
  for (int i = 0; i < 4; ++i) h.add_interval(ms(100));
  BOOST_TEST(h.mean_ms() == 100.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(an_endless_silence_is_infinitely_suspicious) {
  heartbeat_history h(10, ms(200), ms(10));
  BOOST_TEST(h.phi(std::chrono::hours(1)) > 1e6);
}

BOOST_AUTO_TEST_SUITE_END()
