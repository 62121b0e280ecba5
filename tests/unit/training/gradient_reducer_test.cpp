// The bucketed, overlapped reducer: 2 ranks with batch B train exactly like 1 rank with batch
// 2B, buckets go out during backward, and rank 0's parameters reach every rank.
#include <boost/test/unit_test.hpp>

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "cluster/training/collective/gradient_reducer.hpp"
#include "ranks.hpp"

namespace troupe::training::test {
namespace {

using namespace std::chrono_literals;

constexpr int64_t batch = 32;  // per rank
constexpr int steps = 5;

torch::nn::Sequential mlp(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(64, 256), torch::nn::ReLU(),
                               torch::nn::Linear(256, 256), torch::nn::ReLU(),
                               torch::nn::Linear(256, 10));
}

std::unique_ptr<communicator> join(const std::shared_ptr<rendezvous>& shared, int rank,
                                   int world_size) {
  gloo_options options;
  options.rank = rank;
  options.world_size = world_size;
  options.join_timeout = 10s;
  options.timeout = 5s;
  return make_gloo_communicator(shared, options);
}

void train_step(torch::nn::Sequential& model, torch::optim::SGD& optimizer, gradient_sync& sync,
                const at::Tensor& features, const at::Tensor& labels) {
  optimizer.zero_grad();
  at::Tensor loss = torch::nn::functional::cross_entropy(model->forward(features), labels);
  sync.before_backward();
  loss.backward();
  sync.after_backward();
  optimizer.step();
}

torch::optim::SGD sgd(torch::nn::Sequential& model) {
  return torch::optim::SGD(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
}

double max_difference(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double most = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    most = std::max(most, (a[i] - b[i]).abs().max().item<double>());
  return most;
}

// 2 ranks with batch B against 1 rank with batch 2B on the same rows, from different starts
// (the broadcast makes rank 1 start from rank 0's parameters).
void check_two_ranks_train_like_one(int64_t bucket_bytes, std::size_t expected_buckets) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  const at::Tensor features = torch::randn({steps, 2 * batch, 64});
  const at::Tensor labels = torch::randint(0, 10, {steps, 2 * batch});

  auto reference = mlp(7);
  auto reference_optimizer = sgd(reference);
  single_rank_sync alone;
  for (int step = 0; step < steps; ++step)
    train_step(reference, reference_optimizer, alone, features[step], labels[step]);

  std::vector<torch::nn::Sequential> models{mlp(7), mlp(8)};
  auto shared = std::make_shared<local_rendezvous>();
  std::vector<std::size_t> bucket_counts(2);
  run_ranks(2, [&](int rank) {
    auto group = join(shared, rank, 2);
    auto& model = models[rank];
    gradient_reducer reducer(model->parameters(), *group, bucket_bytes);
    bucket_counts[rank] = reducer.bucket_count();
    reducer.broadcast_parameters(model->parameters());
    auto optimizer = sgd(model);
    for (int step = 0; step < steps; ++step)
      train_step(model, optimizer, reducer, features[step].narrow(0, rank * batch, batch),
                 labels[step].narrow(0, rank * batch, batch));
  });

  for (std::size_t count : bucket_counts) BOOST_TEST(count == expected_buckets);
  for (auto& model : models) {
    const double difference = max_difference(model->parameters(), reference->parameters());
    BOOST_TEST_MESSAGE("largest difference from one rank: " << difference);
    BOOST_TEST(difference < 1e-5);
  }
}

// Counts the all-reduces started, and notes whether the first layer's gradient (the last one
// backward computes) existed yet when the first bucket went out.
class counting_communicator final : public communicator {
 public:
  counting_communicator(communicator& inner, at::Tensor first_layer_weight)
      : inner_(inner), first_layer_weight_(std::move(first_layer_weight)) {}

  int rank() const override { return inner_.rank(); }
  int world_size() const override { return inner_.world_size(); }
  std::unique_ptr<collective_work> all_reduce_sum(at::Tensor& tensor) override {
    // The gradient lives in its bucket, zeroed before backward: not zero once computed.
    if (launches == 0)
      first_launch_saw_first_layer_gradient = first_layer_weight_.grad().defined() &&
                                              first_layer_weight_.grad().ne(0).any().item<bool>();
    ++launches;
    return inner_.all_reduce_sum(tensor);
  }
  void broadcast(at::Tensor& tensor, int root) override { inner_.broadcast(tensor, root); }
  void barrier() override { inner_.barrier(); }

  int launches = 0;
  bool first_launch_saw_first_layer_gradient = true;

 private:
  communicator& inner_;
  at::Tensor first_layer_weight_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(reducer)

BOOST_AUTO_TEST_CASE(two_ranks_with_small_buckets_train_like_one_rank_with_twice_the_batch) {
  check_two_ranks_train_like_one(4096, 3);
}

BOOST_AUTO_TEST_CASE(two_ranks_with_the_default_bucket_train_like_one_rank_with_twice_the_batch) {
  check_two_ranks_train_like_one(gradient_reducer::default_bucket_bytes, 1);
}

BOOST_AUTO_TEST_CASE(buckets_are_all_reduced_during_backward_not_after_it) {
  torch::set_num_threads(1);
  auto model = mlp(3);
  auto group = join(std::make_shared<local_rendezvous>(), 0, 1);
  counting_communicator counting(*group, model->parameters().front());
  gradient_reducer reducer(model->parameters(), counting, 4096);
  BOOST_REQUIRE(reducer.bucket_count() == 3);

  at::Tensor loss = torch::nn::functional::cross_entropy(model->forward(torch::randn({8, 64})),
                                                         torch::randint(0, 10, {8}));
  reducer.before_backward();
  loss.backward();
  BOOST_TEST(counting.launches == 3);  // before after_backward is called
  BOOST_TEST(!counting.first_launch_saw_first_layer_gradient);
  reducer.after_backward();
  BOOST_TEST(counting.launches == 3);
}

BOOST_AUTO_TEST_CASE(broadcast_gives_every_rank_rank_0s_parameters_and_buffers) {
  torch::set_num_threads(1);
  std::vector<torch::nn::Sequential> models{mlp(1), mlp(2)};
  std::vector<at::Tensor> counters{torch::tensor({11}, at::kLong), torch::tensor({22}, at::kLong)};
  BOOST_REQUIRE(max_difference(models[0]->parameters(), models[1]->parameters()) > 0);
  auto shared = std::make_shared<local_rendezvous>();
  run_ranks(2, [&](int rank) {
    auto group = join(shared, rank, 2);
    gradient_reducer reducer(models[rank]->parameters(), *group);
    auto tensors = models[rank]->parameters();
    tensors.push_back(counters[rank]);
    reducer.broadcast_parameters(tensors);
  });
  BOOST_TEST(max_difference(models[0]->parameters(), models[1]->parameters()) == 0);
  BOOST_TEST(counters[1].item<int64_t>() == 11);
}

BOOST_AUTO_TEST_CASE(a_parameter_without_a_gradient_on_one_rank_still_gets_the_mean) {
  torch::set_num_threads(1);
  std::vector<at::Tensor> extras{torch::zeros({4}, torch::requires_grad()),
                                 torch::zeros({4}, torch::requires_grad())};
  std::vector<torch::nn::Sequential> models{mlp(5), mlp(5)};
  auto shared = std::make_shared<local_rendezvous>();
  run_ranks(2, [&](int rank) {
    auto group = join(shared, rank, 2);
    auto parameters = models[rank]->parameters();
    parameters.push_back(extras[rank]);
    gradient_reducer reducer(parameters, *group, 4096);
    at::Tensor loss = models[rank]->forward(torch::ones({2, 64})).sum();
    if (rank == 0) loss = loss + (extras[rank] * torch::full({4}, 6.0)).sum();
    reducer.before_backward();
    loss.backward();
    reducer.after_backward();
  });
  for (const auto& extra : extras) BOOST_TEST(at::equal(extra.grad(), torch::full({4}, 3.0)));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::training::test
