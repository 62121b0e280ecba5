// The head's rendezvous spaces (actors/training/rendezvous_kv.hpp), driven with a test clock.
#include <boost/test/unit_test.hpp>

#include "actors/training/rendezvous_kv.hpp"
#include "messages/print.hpp"

namespace troupe::training {
namespace {

using std::chrono::milliseconds;

const clock::time_point t0{};
const generation job_a{"j00000000000000aa", 1};

std::vector<answer> answers_of(std::variant<std::vector<answer>, msg::error> r) {
  BOOST_TEST_REQUIRE(std::holds_alternative<std::vector<answer>>(r));
  return std::get<std::vector<answer>>(std::move(r));
}

msg::error_code code_of(const std::variant<std::string, waiting, msg::error>& r) {
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(r));
  return std::get<msg::error>(r).code;
}

msg::error_code code_of(const std::variant<std::vector<answer>, msg::error>& r) {
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(r));
  return std::get<msg::error>(r).code;
}

std::string value_of(const answer& a) {
  BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(a.result));
  return std::get<std::string>(a.result);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rendezvous_kv_spaces)

BOOST_AUTO_TEST_CASE(a_get_of_a_key_already_set_answers_at_once) {
  rendezvous_kv kv;
  BOOST_TEST(answers_of(kv.set(job_a, "rank_0", "addr-0", t0)).empty());
  auto got = kv.get(job_a, "rank_0", 1000, 1, t0);
  BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(got));
  BOOST_TEST(std::get<std::string>(got) == "addr-0");
}

BOOST_AUTO_TEST_CASE(a_get_waits_until_the_key_is_set_and_is_answered_by_that_set) {
  rendezvous_kv kv;
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_a, "rank_1", 5000, 7, t0)));
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_a, "rank_1", 5000, 8, t0)));
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_a, "other", 5000, 9, t0)));
  auto answered = answers_of(kv.set(job_a, "rank_1", "addr-1", t0 + milliseconds(10)));
  BOOST_TEST_REQUIRE(answered.size() == 2u);
  BOOST_TEST(answered[0].waiter == 7u);
  BOOST_TEST(answered[1].waiter == 8u);
  BOOST_TEST(value_of(answered[0]) == "addr-1");
  BOOST_TEST(kv.take_due(t0 + milliseconds(20)).empty());
}

BOOST_AUTO_TEST_CASE(a_get_whose_key_is_never_set_is_answered_timeout_at_its_deadline) {
  rendezvous_kv kv;
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_a, "never", 250, 3, t0)));
  BOOST_TEST_REQUIRE(kv.next_deadline().has_value());
  BOOST_TEST((*kv.next_deadline() == t0 + milliseconds(250)));
  BOOST_TEST(kv.take_due(t0 + milliseconds(249)).empty());
  auto due = kv.take_due(t0 + milliseconds(250));
  BOOST_TEST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].waiter == 3u);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(due[0].result));
  BOOST_TEST(std::get<msg::error>(due[0].result).code == msg::error_code::timeout);
  BOOST_TEST(!kv.next_deadline().has_value());
  // Answered once: a later set answers nobody.
  BOOST_TEST(answers_of(kv.set(job_a, "never", "late", t0 + milliseconds(300))).empty());
}

BOOST_AUTO_TEST_CASE(setting_a_key_again_replaces_its_value) {
  rendezvous_kv kv;
  (void)kv.set(job_a, "k", "first", t0);
  (void)kv.set(job_a, "k", "second", t0);
  BOOST_TEST(std::get<std::string>(kv.get(job_a, "k", 1, 1, t0)) == "second");
}

BOOST_AUTO_TEST_CASE(keys_values_key_counts_space_bytes_waiters_and_timeouts_are_bounded) {
  rendezvous_limits limits;
  limits.max_key_bytes = 8;
  limits.max_value_bytes = 16;
  limits.max_keys = 3;
  limits.max_space_bytes = 40;
  limits.max_waiters = 2;
  limits.max_timeout_ms = 1000;
  rendezvous_kv kv(limits);
  using code = msg::error_code;
  BOOST_TEST(code_of(kv.set(job_a, "", "v", t0)) == code::invalid_request);
  BOOST_TEST(code_of(kv.set(job_a, "123456789", "v", t0)) == code::invalid_request);
  BOOST_TEST(code_of(kv.set(job_a, "k", std::string(17, 'x'), t0)) == code::invalid_request);
  BOOST_TEST(code_of(kv.get(job_a, "123456789", 10, 1, t0)) == code::invalid_request);
  BOOST_TEST(code_of(kv.get(job_a, "k", 0, 1, t0)) == code::invalid_request);
  BOOST_TEST(code_of(kv.get(job_a, "k", 1001, 1, t0)) == code::invalid_request);

  BOOST_TEST(answers_of(kv.set(job_a, "a", std::string(16, 'x'), t0)).empty());  // 17 bytes
  BOOST_TEST(answers_of(kv.set(job_a, "b", std::string(16, 'x'), t0)).empty());  // 34
  BOOST_TEST(code_of(kv.set(job_a, "c", std::string(16, 'x'), t0)) == code::invalid_request);
  BOOST_TEST(answers_of(kv.set(job_a, "c", "x", t0)).empty());               // 36 bytes, 3 keys
  BOOST_TEST(code_of(kv.set(job_a, "d", "", t0)) == code::invalid_request);  // a fourth key
  BOOST_TEST(answers_of(kv.set(job_a, "c", "xyz", t0)).empty());  // replacing counts the new size

  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_a, "w", 10, 1, t0)));
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_a, "w", 10, 2, t0)));
  BOOST_TEST(code_of(kv.get(job_a, "w", 10, 3, t0)) == code::overloaded);
}

BOOST_AUTO_TEST_CASE(each_job_and_each_round_of_a_job_has_its_own_space) {
  rendezvous_kv kv;
  const generation job_b{"j00000000000000bb", 1};
  (void)kv.set(job_a, "k", "of a", t0);
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_b, "k", 100, 1, t0)));
  const generation retry{job_a.job_id, 2};
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(retry, "k", 100, 2, t0)));
}

BOOST_AUTO_TEST_CASE(a_retry_of_the_gang_drops_the_older_round_and_refuses_it_from_then_on) {
  rendezvous_kv kv;
  (void)kv.set(job_a, "k", "round 1", t0);
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_a, "rank_1", 5000, 11, t0)));
  const generation retry{job_a.job_id, 2};
  BOOST_TEST(answers_of(kv.set(retry, "k", "round 2", t0)).empty());
  BOOST_TEST(kv.spaces() == 1u);
  auto due = kv.take_due(t0);
  BOOST_TEST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].waiter == 11u);
  BOOST_TEST(std::get<msg::error>(due[0].result).code == msg::error_code::conflict);
  BOOST_TEST(code_of(kv.get(job_a, "k", 100, 12, t0)) == msg::error_code::conflict);
  BOOST_TEST(code_of(kv.set(job_a, "k", "late", t0)) == msg::error_code::conflict);
  BOOST_TEST(std::get<std::string>(kv.get(retry, "k", 100, 13, t0)) == "round 2");
}

BOOST_AUTO_TEST_CASE(a_space_unused_for_the_idle_limit_is_dropped_unless_someone_waits) {
  rendezvous_limits limits;
  limits.idle_limit = std::chrono::minutes(1);
  rendezvous_kv kv(limits);
  (void)kv.set(job_a, "k", "v", t0);
  const generation job_b{"j00000000000000bb", 1};
  BOOST_TEST(std::holds_alternative<waiting>(kv.get(job_b, "k", 600'000, 1, t0)));
  (void)kv.take_due(t0 + std::chrono::seconds(61));
  BOOST_TEST(kv.spaces() == 1u);  // job b's waiter keeps its space
  // Job a starts afresh: its first round may come again (a new job id is the usual case).
  BOOST_TEST(
      std::holds_alternative<waiting>(kv.get(job_a, "k", 10, 2, t0 + std::chrono::seconds(62))));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::training
