// The dynamic batcher over a fake model: the requests waiting are joined into passes of at most
// max_batch rows and each gets exactly its own rows; nothing runs before run_waiting(), which runs
// until nothing waits; errors reach every request of their pass.
#include <boost/test/unit_test.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "cluster/inference/dynamic_batcher.hpp"

using namespace troupe::inference;

namespace {

constexpr uint32_t features = 3;

// A model of two outputs per row: the row's sum and its first value times 2. Records the rows of
// every pass, and runs `during_pass` (once) inside the first.
struct fake_model {
  std::vector<uint32_t> pass_rows;
  std::function<void()> during_pass;

  forward_fn forward() {
    return [this](const std::vector<float>& in, uint32_t rows) {
      pass_rows.push_back(rows);
      if (during_pass) std::exchange(during_pass, nullptr)();
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

// A request's answer, once its `done` was called.
using answer = std::shared_ptr<std::optional<forward_output>>;

answer ask(dynamic_batcher& b, std::vector<float> in, uint32_t rows) {
  auto out = std::make_shared<std::optional<forward_output>>();
  b.submit(std::move(in), rows, [out](forward_output o) {
    BOOST_TEST(!out->has_value(), "a request answered twice");
    *out = std::move(o);
  });
  return out;
}

forward_output answered(const answer& a) {
  BOOST_TEST_REQUIRE(a->has_value(), "the request was not answered");
  return **a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dynamic_batching)

BOOST_AUTO_TEST_CASE(waiting_requests_share_one_pass_and_each_gets_exactly_its_own_rows) {
  fake_model model;
  dynamic_batcher batcher({64, 0}, features, model.forward());
  std::vector<std::vector<float>> inputs;
  std::vector<answer> answers;
  uint32_t rows = 0;
  for (int id = 1; id <= 8; ++id) {
    inputs.push_back(rows_of(id, uint32_t(id % 3 + 1)));
    rows += uint32_t(inputs.back().size() / features);
    answers.push_back(ask(batcher, inputs.back(), uint32_t(inputs.back().size() / features)));
  }
  BOOST_TEST(batcher.waiting() == 8u);
  BOOST_TEST(!answers[0]->has_value(), "a request ran before run_waiting()");
  batcher.run_waiting();
  BOOST_TEST(batcher.waiting() == 0u);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto out = answered(answers[i]);
    BOOST_TEST(out.error.empty());
    BOOST_TEST(out.output_count == 2u);
    BOOST_TEST(out.outputs == expected_of(inputs[i]), "request " << i);
  }
  BOOST_TEST(model.pass_rows == (std::vector<uint32_t>{rows}));
}

BOOST_AUTO_TEST_CASE(a_pass_takes_at_most_max_batch_rows_in_arrival_order) {
  fake_model model;
  dynamic_batcher batcher({4, 0}, features, model.forward());
  auto first = ask(batcher, rows_of(0, 1), 1);
  std::vector<answer> answers;
  for (int id = 1; id <= 5; ++id) answers.push_back(ask(batcher, rows_of(id, 2), 2));
  batcher.run_waiting();
  BOOST_TEST(answered(first).outputs == expected_of(rows_of(0, 1)));
  for (int id = 1; id <= 5; ++id)
    BOOST_TEST(answered(answers[size_t(id - 1)]).outputs == expected_of(rows_of(id, 2)));
  BOOST_TEST(model.pass_rows == (std::vector<uint32_t>{3, 4, 4}));
}

BOOST_AUTO_TEST_CASE(a_request_of_more_rows_than_max_batch_runs_alone) {
  fake_model model;
  dynamic_batcher batcher({2, 0}, features, model.forward());
  auto big = ask(batcher, rows_of(1, 5), 5);
  auto small = ask(batcher, rows_of(2, 1), 1);
  batcher.run_waiting();
  BOOST_TEST(answered(big).outputs == expected_of(rows_of(1, 5)));
  BOOST_TEST(answered(small).outputs == expected_of(rows_of(2, 1)));
  BOOST_TEST(model.pass_rows == (std::vector<uint32_t>{5, 1}));
}

BOOST_AUTO_TEST_CASE(a_lone_request_runs_at_once_without_waiting_for_others) {
  fake_model model;
  // A delay far beyond the test's: run_waiting() returns with the request answered all the same.
  dynamic_batcher batcher({64, 600'000}, features, model.forward());
  auto one = ask(batcher, rows_of(1, 1), 1);
  batcher.run_waiting();
  BOOST_TEST(answered(one).outputs == expected_of(rows_of(1, 1)));
  BOOST_TEST(model.pass_rows == (std::vector<uint32_t>{1}));
}

BOOST_AUTO_TEST_CASE(requests_submitted_during_a_pass_run_together_in_the_next_one) {
  fake_model model;
  dynamic_batcher batcher({64, 600'000}, features, model.forward());
  answer a, b;
  model.during_pass = [&] {
    a = ask(batcher, rows_of(1, 1), 1);
    b = ask(batcher, rows_of(2, 2), 2);
  };
  auto first = ask(batcher, rows_of(0, 1), 1);
  batcher.run_waiting();
  BOOST_TEST(answered(first).outputs == expected_of(rows_of(0, 1)));
  BOOST_TEST(answered(a).outputs == expected_of(rows_of(1, 1)));
  BOOST_TEST(answered(b).outputs == expected_of(rows_of(2, 2)));
  BOOST_TEST(model.pass_rows == (std::vector<uint32_t>{1, 3}));
}

BOOST_AUTO_TEST_CASE(a_pass_of_one_request_runs_on_its_rows_without_copying_them) {
  const float* seen = nullptr;
  dynamic_batcher batcher({64, 0}, features, [&](const std::vector<float>& in, uint32_t rows) {
    seen = in.data();
    return forward_output{"", 1, std::vector<float>(rows, 0.f)};
  });
  auto rows = rows_of(1, 2);
  const float* sent = rows.data();
  auto one = ask(batcher, std::move(rows), 2);
  batcher.run_waiting();
  BOOST_TEST(answered(one).error.empty());
  BOOST_TEST(seen == sent);
}

BOOST_AUTO_TEST_CASE(a_failing_pass_answers_each_of_its_requests_with_the_error) {
  int calls = 0;
  dynamic_batcher batcher({64, 0}, features, [&](const std::vector<float>&, uint32_t) {
    ++calls;
    throw std::runtime_error("shape mismatch in layer 1");
    return forward_output{};
  });
  auto a = ask(batcher, rows_of(1, 1), 1);
  auto b = ask(batcher, rows_of(2, 2), 2);
  batcher.run_waiting();
  BOOST_TEST(answered(a).error == "shape mismatch in layer 1");
  BOOST_TEST(answered(b).error == "shape mismatch in layer 1");
  BOOST_TEST(answered(b).outputs.empty());
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(a_model_giving_the_wrong_number_of_values_is_an_error_not_a_wrong_split) {
  dynamic_batcher batcher({64, 0}, features, [](const std::vector<float>&, uint32_t) {
    return forward_output{"", 2, {1, 2, 3}};
  });
  auto a = ask(batcher, rows_of(1, 2), 2);
  batcher.run_waiting();
  BOOST_TEST(answered(a).error == "the model gave 3 values for 2 rows of 2");
}

BOOST_AUTO_TEST_CASE(requests_that_never_ran_are_answered_when_the_batcher_stops) {
  fake_model model;
  answer waiting;
  {
    dynamic_batcher batcher({64, 0}, features, model.forward());
    waiting = ask(batcher, rows_of(1, 1), 1);
  }
  BOOST_TEST(answered(waiting).error == "the replica is stopping");
  BOOST_TEST(model.pass_rows.empty());
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
