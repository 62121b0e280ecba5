// The head's predictions on their way to replicas: asked from several threads at once, each
// answered with its own replica's answer; retried when a replica goes; answered from a cache.
// The replicas are in-process ROUTER sockets on loopback (plain TCP: the desk's CURVE is the
// transport's, tested there).
#include <boost/test/unit_test.hpp>

#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "actors/inference/prediction_desk.hpp"
#include "messages/codec.hpp"

using namespace troupe;
using namespace troupe::inference;
using namespace std::chrono_literals;

namespace {

const std::string job_id = "j00000000000000aa";

std::string attempt(int task) { return job_id + "." + std::to_string(task) + ".1"; }

// A replica's prediction socket: answers each request with its own features as outputs, or
// (silent) answers none. Counts what it was asked.
class fake_replica {
 public:
  explicit fake_replica(bool silent)
      : loop_(context_, transport::socket_loop::role::router_bind, "tcp://127.0.0.1:0", {},
              [this, silent](const std::string& peer, const zmq::message_t& frame,
                             transport::clock::time_point) {
                ++asked;
                if (silent) return;
                auto env = std::get<msg::envelope>(msg::decode(frame.data(), frame.size(), {}));
                const auto& r =
                    std::get<msg::predict_request>(std::get<msg::inference_message>(env.body).body);
                const auto rows = static_cast<uint32_t>(r.features.size() / r.feature_count);
                loop_.send(peer, msg::encode(msg::reply_to(
                                     env, "replica",
                                     msg::inference_message{msg::predict_reply{
                                         "txn", r.version, rows, r.feature_count, r.features}})));
              }) {
    loop_.start();
  }
  const std::string& endpoint() const { return loop_.endpoint(); }
  std::atomic<int> asked{0};

 private:
  zmq::context_t context_{1};
  transport::socket_loop loop_;
};

// A desk whose service `txn` (version 1) has a ready replica for each of `replicas`.
struct desk_fixture {
  explicit desk_fixture(std::vector<fake_replica*> replicas, cache_policy cache = {})
      : desk(std::nullopt, {}, "head",
             std::make_shared<metrics::cache_counters>(std::make_shared<prometheus::Registry>()),
             7) {
    const service_identity txn{"txn", "",   job_id, "txn", static_cast<uint32_t>(replicas.size()),
                               {},    cache};
    for (size_t i = 0; i < replicas.size(); ++i) {
      const auto id = attempt(static_cast<int>(i));
      desk.with_table([&](service_table& table) {
        table.resolved(txn, "txn", {{1, 100, {2, output_kind::values, {}}}}, id, "node",
                       table_clock::now());
        BOOST_TEST_REQUIRE(table.reported(id, "node", {{1, ""}}));
      });
      desk.link(id, replicas[i]->endpoint(), "");
    }
    if (cache.entries) desk.keep_cache(job_id, cache, {1});
  }
  prediction_desk desk;
};

prediction_request request_of(float a, float b) {
  prediction_request r;
  r.service = "txn";
  r.feature_count = 2;
  r.features = {a, b};
  return r;
}

// Collects answers; waits (bounded) for a number of them.
class answers {
 public:
  prediction_desk::done_fn keep(std::vector<float> expected) {
    return [this, expected](prediction_result r) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (r.error)
        errors_.push_back(r.error->message);
      else if (r.outputs != expected)
        errors_.push_back("an answer with another request's rows");
      ++count_;
      changed_.notify_all();
    };
  }
  // The errors once `n` answers came; fails the test if they do not within 20 s.
  std::vector<std::string> wait_for(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    BOOST_TEST_REQUIRE(changed_.wait_for(lock, 20s, [&] { return count_ >= n; }));
    return errors_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t count_ = 0;
  std::vector<std::string> errors_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(prediction_desk_paths)

BOOST_AUTO_TEST_CASE(predictions_from_many_threads_get_their_own_answers) {
  fake_replica a(false), b(false);
  desk_fixture f({&a, &b});
  answers got;
  constexpr int threads = 4, each = 250;
  std::vector<std::thread> askers;
  for (int t = 0; t < threads; ++t)
    askers.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        const auto x = static_cast<float>(t), y = static_cast<float>(i);
        f.desk.predict(request_of(x, y), got.keep({x, y}));
      }
    });
  for (auto& t : askers) t.join();
  const auto errors = got.wait_for(threads * each);
  BOOST_TEST(errors.empty(), (errors.empty() ? "" : errors.front()));
  // The replicas took turns.
  BOOST_TEST(a.asked.load() == threads * each / 2);
  BOOST_TEST(b.asked.load() == threads * each / 2);
}

BOOST_AUTO_TEST_CASE(a_prediction_whose_replica_is_unlinked_goes_to_another) {
  fake_replica silent(true), answering(false);
  desk_fixture f({&silent, &answering});
  answers got;
  // The replicas take turns: one of the two goes to the silent one.
  f.desk.predict(request_of(1, 2), got.keep({1, 2}));
  f.desk.predict(request_of(3, 4), got.keep({3, 4}));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (silent.asked.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_TEST_REQUIRE(silent.asked.load() == 1);
  f.desk.unlink(attempt(0), "its attempt ended");
  const auto errors = got.wait_for(2);
  BOOST_TEST(errors.empty(), (errors.empty() ? "" : errors.front()));
  BOOST_TEST(answering.asked.load() == 2);
}

BOOST_AUTO_TEST_CASE(a_prediction_with_no_replica_left_is_answered_unavailable) {
  fake_replica silent(true);
  desk_fixture f({&silent});
  answers got;
  f.desk.predict(request_of(1, 2), got.keep({1, 2}));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (silent.asked.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  f.desk.unlink(attempt(0), "its attempt ended");
  const auto errors = got.wait_for(1);
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  // Retried on no other: the answer says why the first failed and that none is ready.
  BOOST_TEST(errors[0] == "replica " + attempt(0) +
                              " of txn did not answer (its attempt ended), and no replica of txn "
                              "is ready yet: retry later",
             errors[0]);
}

BOOST_AUTO_TEST_CASE(a_repeated_prediction_is_answered_from_the_cache) {
  fake_replica replica(false);
  desk_fixture f({&replica}, cache_policy{100, 60});
  answers got;
  f.desk.predict(request_of(1, 2), got.keep({1, 2}));
  BOOST_TEST_REQUIRE(got.wait_for(1).empty());
  f.desk.predict(request_of(1, 2), got.keep({1, 2}));
  f.desk.predict(request_of(5, 6), got.keep({5, 6}));
  BOOST_TEST(got.wait_for(3).empty());
  BOOST_TEST(replica.asked.load() == 2);  // the repeated one never reached it
}

BOOST_AUTO_TEST_CASE(a_bad_request_is_refused_before_it_is_routed) {
  prediction_desk desk(
      std::nullopt, {}, "head",
      std::make_shared<metrics::cache_counters>(std::make_shared<prometheus::Registry>()), 7);
  answers got;
  auto r = request_of(1, 2);
  r.features.push_back(3);  // not whole rows of 2
  desk.predict(r, got.keep({}));
  const auto errors = got.wait_for(1);
  BOOST_TEST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0] == "features: expected whole rows of 2 values, got 3 values");
  desk.predict(request_of(1, 2), got.keep({}));
  const auto unknown = got.wait_for(2);
  BOOST_TEST_REQUIRE(unknown.size() == 2u);
  BOOST_TEST(unknown[1] == "no service txn is running");
}

BOOST_AUTO_TEST_SUITE_END()
