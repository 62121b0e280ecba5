#define BOOST_TEST_MODULE transport_actor
#include <boost/test/unit_test.hpp>

#include <limits>

#include "actors/transport/pending_requests.hpp"
#include "messages/print.hpp"

using namespace troupe;
using actors::unmatched_reply;
using ms = std::chrono::milliseconds;

namespace {

// Head-to-node requests do not exist yet; a drain stands in for any request and its reply.
msg::body request_for(const std::string& node) { return msg::drain_node_request{node, true}; }
msg::body some_reply() { return msg::drain_node_reply{}; }

msg::envelope reply_to(uint64_t request_id, msg::body body = some_reply()) {
  msg::envelope env;
  env.request_id = request_id;
  env.sender = "node";
  env.body = std::move(body);
  return env;
}

struct fixture {
  actors::pending_requests requests{"head", 1000};
  actors::retry_policy twice_more{ms(100), 2};
  actors::request_clock::time_point t0 = actors::request_clock::now();
};

}  // namespace

BOOST_AUTO_TEST_SUITE(pending_requests)

BOOST_FIXTURE_TEST_CASE(a_request_is_sent_to_its_peer_in_an_envelope_from_the_sender, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), twice_more, t0);
  BOOST_TEST(sent.peer == "peer-a");
  BOOST_TEST(sent.env.sender == "head");
  BOOST_TEST(sent.env.version == msg::protocol_version);
  BOOST_TEST(sent.env.request_id == 1000u);
  BOOST_TEST((sent.env.body == request_for("a")));
  BOOST_TEST(requests.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_reply_from_the_peer_answers_its_request_once, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), twice_more, t0);
  auto result = requests.resolve("peer-a", reply_to(sent.env.request_id));
  BOOST_TEST_REQUIRE(std::holds_alternative<actors::answered_request>(result));
  const auto& answered = std::get<actors::answered_request>(result);
  BOOST_TEST(answered.request.peer == "peer-a");
  BOOST_TEST((answered.request.env == sent.env));
  BOOST_TEST((answered.reply == some_reply()));
  BOOST_TEST(answered.attempts == 1u);
  BOOST_TEST(requests.size() == 0u);
  auto duplicate = requests.resolve("peer-a", reply_to(sent.env.request_id));
  BOOST_TEST_REQUIRE(std::holds_alternative<unmatched_reply>(duplicate));
  BOOST_TEST((std::get<unmatched_reply>(duplicate) == unmatched_reply::unknown_request));
}

BOOST_FIXTURE_TEST_CASE(an_error_reply_answers_the_request_too, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), twice_more, t0);
  msg::body refusal = msg::error{msg::error_code::conflict, "no"};
  auto result = requests.resolve("peer-a", reply_to(sent.env.request_id, refusal));
  BOOST_TEST_REQUIRE(std::holds_alternative<actors::answered_request>(result));
  BOOST_TEST((std::get<actors::answered_request>(result).reply == refusal));
}

BOOST_FIXTURE_TEST_CASE(a_reply_from_another_peer_leaves_the_request_pending, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), twice_more, t0);
  auto forged = requests.resolve("peer-b", reply_to(sent.env.request_id));
  BOOST_TEST_REQUIRE(std::holds_alternative<unmatched_reply>(forged));
  BOOST_TEST((std::get<unmatched_reply>(forged) == unmatched_reply::wrong_peer));
  BOOST_TEST(requests.size() == 1u);
  BOOST_TEST(std::holds_alternative<actors::answered_request>(
      requests.resolve("peer-a", reply_to(sent.env.request_id))));
}

BOOST_FIXTURE_TEST_CASE(a_reply_to_an_id_never_sent_is_unknown, fixture) {
  requests.add("peer-a", request_for("a"), twice_more, t0);
  auto stray = requests.resolve("peer-a", reply_to(7));
  BOOST_TEST_REQUIRE(std::holds_alternative<unmatched_reply>(stray));
  BOOST_TEST((std::get<unmatched_reply>(stray) == unmatched_reply::unknown_request));
  BOOST_TEST(requests.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(nothing_is_due_before_the_deadline, fixture) {
  requests.add("peer-a", request_for("a"), twice_more, t0);
  auto early = requests.due(t0 + ms(99));
  BOOST_TEST(early.resend.empty());
  BOOST_TEST(early.timed_out.empty());
  BOOST_TEST(requests.due(t0 + ms(100)).resend.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(an_unanswered_request_is_resent_unchanged_then_times_out, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), twice_more, t0);
  auto first = requests.due(t0 + ms(100));
  BOOST_TEST_REQUIRE(first.resend.size() == 1u);
  BOOST_TEST(first.resend[0].peer == "peer-a");
  BOOST_TEST((first.resend[0].env == sent.env));
  // The next deadline counts from the resend, not from the first send.
  BOOST_TEST(requests.due(t0 + ms(199)).resend.empty());
  BOOST_TEST(requests.due(t0 + ms(200)).resend.size() == 1u);
  auto last = requests.due(t0 + ms(300));
  BOOST_TEST(last.resend.empty());
  BOOST_TEST_REQUIRE(last.timed_out.size() == 1u);
  BOOST_TEST((last.timed_out[0].request.env == sent.env));
  BOOST_TEST(last.timed_out[0].attempts == 3u);
  BOOST_TEST(requests.size() == 0u);
  BOOST_TEST(!requests.next_deadline().has_value());
}

BOOST_FIXTURE_TEST_CASE(a_request_without_resends_times_out_at_its_first_deadline, fixture) {
  requests.add("peer-a", request_for("a"), {ms(50), 0}, t0);
  auto due = requests.due(t0 + ms(50));
  BOOST_TEST(due.resend.empty());
  BOOST_TEST_REQUIRE(due.timed_out.size() == 1u);
  BOOST_TEST(due.timed_out[0].attempts == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_late_clock_reading_resends_once_not_once_per_missed_deadline, fixture) {
  requests.add("peer-a", request_for("a"), twice_more, t0);
  auto late = requests.due(t0 + ms(1000));
  BOOST_TEST(late.resend.size() == 1u);
  BOOST_TEST(late.timed_out.empty());
  BOOST_TEST((requests.next_deadline() == t0 + ms(1100)));
}

BOOST_FIXTURE_TEST_CASE(a_reply_after_a_resend_counts_every_attempt, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), twice_more, t0);
  requests.due(t0 + ms(100));
  auto result = requests.resolve("peer-a", reply_to(sent.env.request_id));
  BOOST_TEST_REQUIRE(std::holds_alternative<actors::answered_request>(result));
  BOOST_TEST(std::get<actors::answered_request>(result).attempts == 2u);
  BOOST_TEST(requests.due(t0 + ms(1000)).resend.empty());
}

BOOST_FIXTURE_TEST_CASE(a_reply_after_the_time_out_is_unknown, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), {ms(100), 0}, t0);
  BOOST_TEST(requests.due(t0 + ms(100)).timed_out.size() == 1u);
  auto late = requests.resolve("peer-a", reply_to(sent.env.request_id));
  BOOST_TEST_REQUIRE(std::holds_alternative<unmatched_reply>(late));
  BOOST_TEST((std::get<unmatched_reply>(late) == unmatched_reply::unknown_request));
}

BOOST_FIXTURE_TEST_CASE(a_cancelled_request_is_neither_resent_nor_timed_out, fixture) {
  auto sent = requests.add("peer-a", request_for("a"), twice_more, t0);
  BOOST_TEST(requests.cancel(sent.env.request_id));
  BOOST_TEST(!requests.cancel(sent.env.request_id));
  auto due = requests.due(t0 + ms(1000));
  BOOST_TEST(due.resend.empty());
  BOOST_TEST(due.timed_out.empty());
  BOOST_TEST(std::holds_alternative<unmatched_reply>(
      requests.resolve("peer-a", reply_to(sent.env.request_id))));
}

BOOST_FIXTURE_TEST_CASE(requests_are_due_oldest_deadline_first, fixture) {
  auto slow = requests.add("peer-a", request_for("a"), {ms(300), 1}, t0);
  auto quick = requests.add("peer-b", request_for("b"), {ms(100), 1}, t0 + ms(10));
  BOOST_TEST((requests.next_deadline() == t0 + ms(110)));
  auto due = requests.due(t0 + ms(400));
  BOOST_TEST_REQUIRE(due.resend.size() == 2u);
  BOOST_TEST(due.resend[0].env.request_id == quick.env.request_id);
  BOOST_TEST(due.resend[1].env.request_id == slow.env.request_id);
}

BOOST_FIXTURE_TEST_CASE(the_next_deadline_follows_answers_and_resends, fixture) {
  BOOST_TEST(!requests.next_deadline().has_value());
  auto first = requests.add("peer-a", request_for("a"), twice_more, t0);
  requests.add("peer-b", request_for("b"), twice_more, t0 + ms(50));
  BOOST_TEST((requests.next_deadline() == t0 + ms(100)));
  requests.resolve("peer-a", reply_to(first.env.request_id));
  BOOST_TEST((requests.next_deadline() == t0 + ms(150)));
  requests.due(t0 + ms(150));
  BOOST_TEST((requests.next_deadline() == t0 + ms(250)));
}

BOOST_AUTO_TEST_CASE(request_ids_are_unique_and_never_zero) {
  const auto max = std::numeric_limits<uint64_t>::max();
  actors::pending_requests requests{"head", max - 1};
  auto now = actors::request_clock::now();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(requests.add("p", request_for("a"), {ms(100), 0}, now).env.request_id);
  BOOST_TEST(ids == (std::vector<uint64_t>{max - 1, max, 1, 2}));
  BOOST_TEST(requests.size() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
