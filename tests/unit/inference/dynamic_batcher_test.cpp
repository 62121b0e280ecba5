// The dynamic batcher over a fake model: concurrent requests are joined into one pass and each
// gets exactly its own rows; a pass starts as soon as the model is free, never waiting for more
// requests; errors reach every request of their pass.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <numeric>
#include <stdexcept>

#include "cluster/inference/dynamic_batcher.hpp"

using namespace troupe::inference;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t features = 3;
constexpr auto bounded = 10s;  // every wait in these tests

// A model of two outputs per row: the row's sum and its first value times 2. Records the rows of
// every pass; holds each pass until the gate opens, when there is one.
struct fake_model {
  std::mutex mutex;
  std::vector<uint32_t> pass_rows;
  std::shared_future<void> gate;

  forward_fn forward() {
    return [this](const std::vector<float>& in, uint32_t rows) {
      if (gate.valid()) gate.wait_for(bounded);
      {
        std::lock_guard lock(mutex);
        pass_rows.push_back(rows);
      }
      forward_output out;
      out.output_count = 2;
      for (uint32_t r = 0; r < rows; ++r) {
        const auto* row = in.data() + size_t{r} * features;
        out.outputs.push_back(row[0] + row[1] + row[2]);
        out.outputs.push_back(row[0] * 2);
      }
      return out;
    };
  }
  std::vector<uint32_t> passes() {
    std::lock_guard lock(mutex);
    return pass_rows;
  }
};

// `rows` rows whose values are unique to `id`.
std::vector<float> rows_of(int id, uint32_t rows) {
  std::vector<float> out;
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t f = 0; f < features; ++f) out.push_back(float(id * 100 + r * 10 + f));
  return out;
}

std::vector<float> expected_of(const std::vector<float>& in) {
  std::vector<float> out;
  for (size_t r = 0; r < in.size() / features; ++r) {
    out.push_back(in[r * features] + in[r * features + 1] + in[r * features + 2]);
    out.push_back(in[r * features] * 2);
  }
  return out;
}

std::future<forward_output> ask(dynamic_batcher& b, std::vector<float> in, uint32_t rows) {
  auto promise = std::make_shared<std::promise<forward_output>>();
  auto answer = promise->get_future();
  b.submit(std::move(in), rows, [promise](forward_output out) { promise->set_value(out); });
  return answer;
}

// Until the worker took every waiting request into its pass.
void wait_until_taken(const dynamic_batcher& b) {
  const auto deadline = std::chrono::steady_clock::now() + bounded;
  while (b.waiting() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  BOOST_TEST_REQUIRE(b.waiting() == 0u, "the worker took no pass in 10 s");
}

forward_output wait(std::future<forward_output>& f) {
  BOOST_TEST_REQUIRE((f.wait_for(bounded) == std::future_status::ready), "no answer in 10 s");
  return f.get();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dynamic_batching)

BOOST_AUTO_TEST_CASE(concurrent_requests_share_one_pass_and_each_gets_exactly_its_own_rows) {
  fake_model model;
  std::promise<void> open;
  model.gate = open.get_future().share();
  dynamic_batcher batcher({64, 0}, features, model.forward());
  // The first request's pass holds the worker; the others wait meanwhile and join one pass.
  auto first = ask(batcher, rows_of(0, 1), 1);
  wait_until_taken(batcher);
  std::vector<std::future<forward_output>> answers;
  std::vector<std::vector<float>> inputs;
  std::vector<std::thread> clients;
  std::mutex answers_mutex;
  for (int id = 1; id <= 8; ++id) inputs.push_back(rows_of(id, uint32_t(id % 3 + 1)));
  answers.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    clients.emplace_back([&, i] {
      auto f = ask(batcher, inputs[i], uint32_t(inputs[i].size() / features));
      std::lock_guard lock(answers_mutex);
      answers[i] = std::move(f);
    });
  for (auto& c : clients) c.join();
  open.set_value();
  BOOST_TEST(wait(first).outputs == expected_of(rows_of(0, 1)));
  uint32_t rows = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto out = wait(answers[i]);
    BOOST_TEST(out.error.empty());
    BOOST_TEST(out.output_count == 2u);
    BOOST_TEST(out.outputs == expected_of(inputs[i]), "request " << i);
    rows += uint32_t(inputs[i].size() / features);
  }
  BOOST_TEST(model.passes() == (std::vector<uint32_t>{1, rows}));
}

BOOST_AUTO_TEST_CASE(a_pass_takes_at_most_max_batch_rows_in_arrival_order) {
  fake_model model;
  std::promise<void> open;
  model.gate = open.get_future().share();
  dynamic_batcher batcher({4, 0}, features, model.forward());
  auto first = ask(batcher, rows_of(0, 1), 1);
  wait_until_taken(batcher);
  std::vector<std::future<forward_output>> answers;
  for (int id = 1; id <= 5; ++id) answers.push_back(ask(batcher, rows_of(id, 2), 2));
  open.set_value();
  wait(first);
  for (int id = 1; id <= 5; ++id)
    BOOST_TEST(wait(answers[size_t(id - 1)]).outputs == expected_of(rows_of(id, 2)));
  BOOST_TEST(model.passes() == (std::vector<uint32_t>{1, 4, 4, 2}));
}

BOOST_AUTO_TEST_CASE(a_request_of_more_rows_than_max_batch_runs_alone) {
  fake_model model;
  dynamic_batcher batcher({2, 0}, features, model.forward());
  auto big = ask(batcher, rows_of(1, 5), 5);
  BOOST_TEST(wait(big).outputs == expected_of(rows_of(1, 5)));
  BOOST_TEST(model.passes() == (std::vector<uint32_t>{5}));
}

BOOST_AUTO_TEST_CASE(a_request_that_finds_the_model_idle_runs_at_once_without_waiting_for_others) {
  fake_model model;
  // A delay far beyond every wait of the test: only a pass that starts at once answers in time.
  dynamic_batcher batcher({64, 600'000}, features, model.forward());
  auto one = ask(batcher, rows_of(1, 1), 1);
  BOOST_TEST(wait(one).outputs == expected_of(rows_of(1, 1)));
  BOOST_TEST(model.passes() == (std::vector<uint32_t>{1}));
}

BOOST_AUTO_TEST_CASE(requests_that_arrive_during_a_pass_run_together_as_soon_as_the_model_is_free) {
  fake_model model;
  std::promise<void> open;
  model.gate = open.get_future().share();
  dynamic_batcher batcher({64, 600'000}, features, model.forward());
  auto first = ask(batcher, rows_of(0, 1), 1);
  wait_until_taken(batcher);
  auto a = ask(batcher, rows_of(1, 1), 1);
  auto b = ask(batcher, rows_of(2, 2), 2);
  open.set_value();
  BOOST_TEST(wait(first).outputs == expected_of(rows_of(0, 1)));
  BOOST_TEST(wait(a).outputs == expected_of(rows_of(1, 1)));
  BOOST_TEST(wait(b).outputs == expected_of(rows_of(2, 2)));
  BOOST_TEST(model.passes() == (std::vector<uint32_t>{1, 3}));
}

BOOST_AUTO_TEST_CASE(a_pass_of_one_request_runs_on_its_rows_without_copying_them) {
  const float* seen = nullptr;
  dynamic_batcher batcher({64, 0}, features, [&](const std::vector<float>& in, uint32_t rows) {
    seen = in.data();
    return forward_output{"", 1, std::vector<float>(rows, 0.f)};
  });
  auto rows = rows_of(1, 2);
  const float* sent = rows.data();
  auto answer = ask(batcher, std::move(rows), 2);
  BOOST_TEST(wait(answer).error.empty());
  BOOST_TEST(seen == sent);
}

BOOST_AUTO_TEST_CASE(a_failing_pass_answers_each_of_its_requests_with_the_error) {
  std::atomic<int> calls{0};
  std::promise<void> open;
  auto gate = open.get_future().share();
  dynamic_batcher batcher({64, 0}, features, [&](const std::vector<float>&, uint32_t) {
    if (calls++ == 0) gate.wait_for(bounded);
    throw std::runtime_error("shape mismatch in layer 1");
    return forward_output{};
  });
  auto first = ask(batcher, rows_of(0, 1), 1);
  wait_until_taken(batcher);
  auto a = ask(batcher, rows_of(1, 1), 1);
  auto b = ask(batcher, rows_of(2, 2), 2);
  open.set_value();
  BOOST_TEST(wait(first).error == "shape mismatch in layer 1");
  BOOST_TEST(wait(a).error == "shape mismatch in layer 1");
  BOOST_TEST(wait(b).error == "shape mismatch in layer 1");
  BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_CASE(a_model_giving_the_wrong_number_of_values_is_an_error_not_a_wrong_split) {
  dynamic_batcher batcher({64, 0}, features, [](const std::vector<float>&, uint32_t) {
    return forward_output{"", 2, {1, 2, 3}};
  });
  auto a = ask(batcher, rows_of(1, 2), 2);
  BOOST_TEST(wait(a).error == "the model gave 3 values for 2 rows of 2");
}

BOOST_AUTO_TEST_CASE(requests_still_waiting_when_the_batcher_stops_are_answered) {
  std::promise<void> open;
  auto gate = open.get_future().share();
  std::future<forward_output> first, waiting;
  {
    dynamic_batcher batcher({64, 0}, features, [&](const std::vector<float>&, uint32_t rows) {
      gate.wait_for(bounded);
      return forward_output{"", 1, std::vector<float>(rows, 0.f)};
    });
    first = ask(batcher, rows_of(0, 1), 1);
    wait_until_taken(batcher);
    waiting = ask(batcher, rows_of(1, 1), 1);
    open.set_value();
  }
  BOOST_TEST(wait(first).error.empty());
  const auto out = wait(waiting);
  BOOST_TEST((out.error.empty() || out.error == "the replica is stopping"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(output_softmax)

BOOST_AUTO_TEST_CASE(each_row_of_logits_becomes_probabilities_that_sum_to_one) {
  std::vector<float> v{0, 0, 0, 1000, 1000, 0};  // large logits must not overflow
  softmax_rows(v, 3);
  for (size_t i = 0; i < 3; ++i) BOOST_TEST(v[i] == 1.f / 3, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(v[3] == 0.5f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(v[4] == 0.5f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(v[5] == 0.f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_SUITE_END()
