// The communicators and the rendezvous they join through: collectives give the right sums,
// and a peer that never joins, stalls, or goes away makes the survivor fail with a clear error
// within the configured timeout instead of hanging.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

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

enum class peer_fault { stalls, leaves };

// Rank 1 joins, then stalls (still connected) or leaves (its sockets close, as when its process
// dies); rank 0's next all-reduce, with a 300 ms timeout, must fail saying `words`.
void check_survivor_fails(peer_fault fault, const std::string& words) {
  auto shared = std::make_shared<local_rendezvous>();
  std::promise<void> survivor_joined, peer_ready, survivor_done;
  auto joined = survivor_joined.get_future().share();
  auto ready = peer_ready.get_future().share();
  auto done = survivor_done.get_future().share();
  std::exception_ptr failure;  // Boost.Test's checks stay on the test's own thread
  run_ranks(2, [&](int rank) {
    auto options = gloo_rank(rank, 2);
    options.timeout = 300ms;
    auto group = make_gloo_communicator(shared, options);
    if (rank == 0) survivor_joined.set_value();
    if (rank == 1) {
      joined.wait_for(30s);  // leaving earlier would fail rank 0's join, not its collective
      if (fault == peer_fault::leaves) group.reset();
      peer_ready.set_value();
      done.wait_for(30s);
      return;
    }
    if (ready.wait_for(30s) != std::future_status::ready) throw std::runtime_error("no peer");
    at::Tensor tensor = at::ones({100});
    try {
      group->all_reduce_sum(tensor)->wait();
    } catch (...) {
      failure = std::current_exception();
    }
    survivor_done.set_value();
  });
  check_fails(
      [&] {
        if (failure) std::rethrow_exception(failure);
      },
      msg::error_code::unavailable, {words});
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
  std::vector<int> ranks(2), world_sizes(2);
  std::vector<at::Tensor> sums{at::full({1000}, 1.0), at::full({1000}, 2.0)};
  std::vector<at::Tensor> broadcast{at::full({10}, -1.0), at::full({10}, 42.0)};
  run_ranks(2, [&](int rank) {
    auto group = make_gloo_communicator(shared, gloo_rank(rank, 2));
    ranks[rank] = group->rank();
    world_sizes[rank] = group->world_size();
    group->all_reduce_sum(sums[rank])->wait();
    group->broadcast(broadcast[rank], 1);
    group->barrier();
  });
  for (int rank = 0; rank < 2; ++rank) {
    BOOST_TEST(ranks[rank] == rank);
    BOOST_TEST(world_sizes[rank] == 2);
    BOOST_TEST(at::equal(sums[rank], at::full({1000}, 3.0)));
    BOOST_TEST(at::equal(broadcast[rank], at::full({10}, 42.0)));
  }
}

// Four ranks take Gloo's halving-doubling path, two the pair exchange; each tensor is summed
// three times, the later ones through the buffers its first sum registered (the pair exchange
// alternates between two inboxes, so the third reuses the first).
BOOST_DATA_TEST_CASE(every_rank_ends_with_the_same_bits_of_the_sum_each_time,
                     boost::unit_test::data::make({2, 4}), world_size) {
  auto shared = std::make_shared<local_rendezvous>();
  std::vector<std::vector<at::Tensor>> before(world_size), after(world_size);
  run_ranks(world_size, [&](int rank) {
    auto group = make_gloo_communicator(shared, gloo_rank(rank, world_size));
    std::vector<at::Tensor> tensors{at::randn({10'001}, at::kFloat), at::randn({999}, at::kDouble),
                                    at::full({77}, rank + 1, at::kLong)};
    for (int round = 0; round < 3; ++round) {
      before[rank].clear();
      for (auto& tensor : tensors) {
        tensor.mul_(round + 1);
        before[rank].push_back(tensor.clone());
        group->all_reduce_sum(tensor)->wait();
      }
    }
    after[rank] = tensors;
  });
  for (std::size_t t = 0; t < 3; ++t) {
    at::Tensor expected = before[0][t].clone();
    for (int rank = 1; rank < world_size; ++rank) expected += before[rank][t];
    BOOST_TEST(at::allclose(after[0][t], expected, 1e-5, 1e-5));
    for (int rank = 1; rank < world_size; ++rank)
      BOOST_TEST(at::equal(after[rank][t], after[0][t]), "rank " << rank << ", tensor " << t);
  }
  // Each rank's r + 1 summed (W (W + 1) / 2), doubled and summed, tripled and summed.
  BOOST_TEST(at::equal(
      after[0][2],
      at::full({77}, 3 * world_size * world_size * world_size * (world_size + 1), at::kLong)));
}

// Waiting for a sum also finishes those started before it. On Gloo's own algorithms, where a
// collective runs when waited for, one whose work was dropped unwaited does not run at all.
BOOST_AUTO_TEST_CASE(waiting_for_a_sum_finishes_those_started_before_it) {
  auto shared = std::make_shared<local_rendezvous>();
  std::vector<at::Tensor> first(2), dropped(2), last(2);
  run_ranks(2, [&](int rank) {
    auto group = make_gloo_communicator(shared, gloo_rank(rank, 2));
    dropped[rank] = at::full({10}, 1.0);
#ifdef TROUPE_GLOO_DIRECT
    group->all_reduce_sum(dropped[rank]).reset();
#endif
    first[rank] = at::full({20}, rank + 1.0);
    last[rank] = at::full({30}, rank + 10.0);
    auto first_sum = group->all_reduce_sum(first[rank]);
    group->all_reduce_sum(last[rank])->wait();
    first_sum->wait();
  });
  for (int rank = 0; rank < 2; ++rank) {
    BOOST_TEST(at::equal(first[rank], at::full({20}, 3.0)));
    BOOST_TEST(at::equal(last[rank], at::full({30}, 21.0)));
    BOOST_TEST(at::equal(dropped[rank], at::full({10}, 1.0)));
  }
}

BOOST_AUTO_TEST_CASE(a_broadcast_copies_any_element_type_from_its_root) {
  auto shared = std::make_shared<local_rendezvous>();
  std::vector<at::Tensor> longs(3), halves(3);
  run_ranks(3, [&](int rank) {
    auto group = make_gloo_communicator(shared, gloo_rank(rank, 3));
    longs[rank] = at::full({5}, rank == 2 ? int64_t{1} << 40 : -1, at::kLong);
    halves[rank] = at::full({3}, rank == 2 ? 0.5 : -1.0, at::kHalf);
    group->broadcast(longs[rank], 2);
    group->broadcast(halves[rank], 2);
    group->barrier();  // the root leaves (closing its sockets) only once every rank has both
  });
  for (int rank = 0; rank < 3; ++rank) {
    BOOST_TEST(at::equal(longs[rank], at::full({5}, int64_t{1} << 40, at::kLong)));
    BOOST_TEST(at::equal(halves[rank], at::full({3}, 0.5, at::kHalf)));
  }
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
  check_survivor_fails(peer_fault::stalls,
                       "gloo all-reduce of 100 elements (rank 0 of 2, timeout 300 ms) failed");
}

BOOST_AUTO_TEST_CASE(a_peer_that_is_gone_makes_the_all_reduce_fail) {
  check_survivor_fails(peer_fault::leaves, "gloo all-reduce of 100 elements");
}

// Gloo writes without MSG_NOSIGNAL: a write to a peer that is gone must fail the collective,
// not kill the process with SIGPIPE.
BOOST_AUTO_TEST_CASE(writing_to_a_peer_that_is_gone_fails_the_collective_instead_of_the_process) {
  auto shared = std::make_shared<local_rendezvous>();
  std::promise<void> survivor_joined, peer_gone;
  auto joined = survivor_joined.get_future().share();
  auto gone = peer_gone.get_future().share();
  int failures = 0;
  run_ranks(2, [&](int rank) {
    auto group = make_gloo_communicator(shared, gloo_rank(rank, 2));
    if (rank == 1) {
      joined.wait_for(30s);
      group.reset();
      peer_gone.set_value();
      return;
    }
    survivor_joined.set_value();
    gone.wait_for(30s);
    std::this_thread::sleep_for(50ms);  // the close has reached rank 0's socket
    at::Tensor tensor = at::ones({100'000});
    for (int i = 0; i < 3; ++i) {
      try {
        group->broadcast(tensor, 0);  // rank 0 only writes
      } catch (const collective_error&) {
        ++failures;
      }
    }
  });
  BOOST_TEST(failures >= 1);
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
