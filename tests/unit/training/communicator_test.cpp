// The communicators and the rendezvous they join through: collectives give the right sums,
// and a peer that never joins, stalls, or goes away makes the survivor fail with a clear error
// within the configured timeout instead of hanging.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <future>

#include "cluster/host/resources.hpp"
#include "cluster/training/collective/communicator.hpp"
#include "ranks.hpp"

namespace troupe::training::test {
namespace {

using namespace std::chrono_literals;

gloo_options gloo_rank(int rank, int world_size) {
  gloo_options options;
  options.rank = rank;
  options.world_size = world_size;
  options.join_timeout = 10s;
  options.timeout = 2s;
  return options;
}

// `call` must throw a collective_error of `code` whose message holds each of `words`.
template <class Call>
void check_fails(Call&& call, msg::error_code code, std::initializer_list<std::string> words) {
  try {
    call();
  } catch (const collective_error& error) {
    BOOST_TEST_MESSAGE(error.what());
    BOOST_TEST(static_cast<int>(error.code()) == static_cast<int>(code));
    for (const auto& word : words)
      BOOST_TEST(std::string(error.what()).find(word) != std::string::npos, "it says " << word);
    return;
  }
  BOOST_ERROR("it did not fail");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rendezvous_keys)

BOOST_AUTO_TEST_CASE(a_value_set_by_one_thread_is_got_by_another_that_waits_for_it) {
  local_rendezvous shared;
  auto value = std::async(std::launch::async, [&] { return shared.get("key", 10s); });
  shared.set("key", {1, 2, 3});
  BOOST_TEST(value.get() == bytes({1, 2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_key_nobody_sets_times_out_with_the_key_named) {
  local_rendezvous shared;
  check_fails([&] { shared.get("nobody/sets/this", 20ms); }, msg::error_code::timeout,
              {"nobody/sets/this"});
}

BOOST_AUTO_TEST_CASE(a_directory_rendezvous_carries_keys_with_slashes_between_its_users) {
  const auto directory =
      std::filesystem::temp_directory_path() / ("troupe-rendezvous-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  directory_rendezvous writer(directory.string());
  directory_rendezvous reader(directory.string());
  writer.set("0/rank_1", {0, 255, 7});
  BOOST_TEST(reader.get("0/rank_1", 1s) == bytes({0, 255, 7}), boost::test_tools::per_element());
  BOOST_CHECK_THROW(reader.get("0/rank_2", 20ms), collective_error);
  std::filesystem::remove_all(directory);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gloo_communicator)

BOOST_AUTO_TEST_CASE(two_ranks_all_reduce_broadcast_and_meet_at_a_barrier) {
  auto shared = std::make_shared<local_rendezvous>();
  run_ranks(2, [&](int rank) {
    auto group = make_gloo_communicator(shared, gloo_rank(rank, 2));
    BOOST_TEST(group->rank() == rank);
    BOOST_TEST(group->world_size() == 2);

    at::Tensor sum = at::full({1000}, rank + 1.0);
    group->all_reduce_sum(sum)->wait();
    BOOST_TEST(at::equal(sum, at::full({1000}, 3.0)));

    at::Tensor from_root = at::full({10}, rank == 1 ? 42.0 : -1.0);
    group->broadcast(from_root, 1);
    BOOST_TEST(at::equal(from_root, at::full({10}, 42.0)));

    group->barrier();
  });
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_before_joining) {
  auto shared = std::make_shared<local_rendezvous>();
  auto outside = gloo_rank(2, 2);
  auto no_timeout = gloo_rank(0, 1);
  no_timeout.timeout = 0ms;
  for (const auto& options : {outside, no_timeout}) {
    check_fails([&] { make_gloo_communicator(shared, options); }, msg::error_code::invalid_request,
                {"communicator: "});
  }
}

BOOST_AUTO_TEST_CASE(a_peer_that_never_joins_makes_joining_time_out) {
  auto options = gloo_rank(0, 2);
  options.join_timeout = 300ms;
  // Bounded by the join timeout, not by the collectives' 2 s.
  check_fails([&] { make_gloo_communicator(std::make_shared<local_rendezvous>(), options); },
              msg::error_code::timeout, {"joining a group of 2", "within 300 ms"});
}

BOOST_AUTO_TEST_CASE(a_peer_that_stops_taking_part_makes_the_all_reduce_fail_after_the_timeout) {
  auto shared = std::make_shared<local_rendezvous>();
  std::promise<void> survivor_done;
  auto done = survivor_done.get_future().share();
  run_ranks(2, [&](int rank) {
    auto options = gloo_rank(rank, 2);
    options.timeout = 300ms;
    auto group = make_gloo_communicator(shared, options);
    if (rank == 1) {
      done.wait_for(30s);  // stalled, but still connected
      return;
    }
    at::Tensor tensor = at::ones({100});
    check_fails([&] { group->all_reduce_sum(tensor)->wait(); }, msg::error_code::unavailable,
                {"gloo all-reduce of 100 elements (rank 0 of 2, timeout 300 ms) failed"});
    survivor_done.set_value();
  });
}

BOOST_AUTO_TEST_CASE(a_peer_that_is_gone_makes_the_all_reduce_fail) {
  auto shared = std::make_shared<local_rendezvous>();
  std::promise<void> peer_gone;
  auto gone = peer_gone.get_future().share();
  run_ranks(2, [&](int rank) {
    auto options = gloo_rank(rank, 2);
    options.timeout = 1s;
    auto group = make_gloo_communicator(shared, options);
    if (rank == 1) {
      group.reset();  // its sockets close, as when its process dies
      peer_gone.set_value();
      return;
    }
    BOOST_REQUIRE(gone.wait_for(30s) == std::future_status::ready);
    at::Tensor tensor = at::ones({100});
    check_fails([&] { group->all_reduce_sum(tensor)->wait(); }, msg::error_code::unavailable,
                {"gloo all-reduce of 100 elements"});
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(nccl_communicator)

BOOST_AUTO_TEST_CASE(without_a_gpu_joining_fails_with_a_clear_error_and_with_one_it_all_reduces) {
  nccl_options options;
  options.join_timeout = 10s;
  options.timeout = 10s;
  auto shared = std::make_shared<local_rendezvous>();
  if (host::detect_gpus().empty()) {
    check_fails([&] { make_nccl_communicator(shared, options); }, msg::error_code::unavailable,
                {"nccl: "});  // no device, or no CUDA toolkit in this build
    return;
  }
  // One GPU: NCCL refuses two ranks on it, so world size 1 (../shared/stack.md).
  auto group = make_nccl_communicator(shared, options);
  at::Tensor tensor = at::full({1000}, 2.0, at::TensorOptions().device(at::kCUDA));
  group->all_reduce_sum(tensor)->wait();
  BOOST_TEST(at::equal(tensor.cpu(), at::full({1000}, 2.0)));
  group->barrier();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::training::test
