// The scheduler's decisions (actors/scheduler): queue order, fairness, placement, gangs,
// reservations, dependencies, resource accounting and the never-fits answer at submit
// (scheduler_standbys_test.cpp: standbys and elastic gangs).
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <random>

#include "tests/unit/actors/scheduler_fixture.hpp"

using namespace troupe;
using namespace troupe::scheduler_testing;

BOOST_AUTO_TEST_SUITE(scheduler_queue)

BOOST_FIXTURE_TEST_CASE(jobs_of_higher_priority_start_first, fixture) {
  s.update_node(node("a", 1));
  submit("low", 1, 0);
  submit("high", 1, 5);
  submit("middle", 1, 2);
  std::string order;
  for (int i = 0; i < 3; ++i) {
    auto placed = s.schedule();
    BOOST_TEST_REQUIRE(placed.size() == 1u);
    order += placed[0].job_id + " ";
    finish(placed[0]);
  }
  BOOST_TEST(order == "high middle low ");
}

BOOST_FIXTURE_TEST_CASE(within_a_priority_jobs_start_in_submit_order, fixture) {
  s.update_node(node("a", 2));
  submit("first", 1);
  submit("second", 1);
  submit("third", 1);
  auto placed = s.schedule();
  BOOST_TEST(ids(placed) == "first second");
  finish(placed[1]);
  BOOST_TEST(ids(s.schedule()) == "third");
}

BOOST_FIXTURE_TEST_CASE(the_tenant_with_the_lower_dominant_share_goes_next, fixture) {
  s.update_node(node("a", 2));
  for (int i = 0; i < 5; ++i) submit("busy-" + std::to_string(i), 1, 0, "busy");
  auto placed = s.schedule();
  BOOST_TEST(ids(placed) == "busy-0 busy-1");
  submit("quiet-0", 1, 0, "quiet");
  // busy-2 is older, but busy holds half the cluster after busy-0 ends, quiet nothing.
  finish(placed[0]);
  BOOST_TEST(ids(s.schedule()) == "quiet-0");
  BOOST_TEST(s.status().ready == 3u);
}

BOOST_FIXTURE_TEST_CASE(two_tenants_queueing_take_turns, fixture) {
  s.update_node(node("a", 3, 6144));
  // `cpu` uses CPUs, `mem` memory: each one's dominant share counts its own scarce resource.
  for (int i = 0; i < 4; ++i)
    BOOST_TEST_REQUIRE(s.enqueue(job("cpu-" + std::to_string(i), ask(1, 0), 1, 0, "cpu")));
  for (int i = 0; i < 4; ++i)
    BOOST_TEST_REQUIRE(s.enqueue(job("mem-" + std::to_string(i), ask(0, 2048), 1, 0, "mem")));
  BOOST_TEST(ids(s.schedule()) == "cpu-0 mem-0 cpu-1 mem-1 cpu-2 mem-2");
  auto st = s.status();
  BOOST_TEST_REQUIRE(st.tenants.size() == 2u);
  BOOST_TEST(st.tenants[0].dominant_share == 1.0);
  BOOST_TEST(st.tenants[1].dominant_share == 1.0);
}

BOOST_FIXTURE_TEST_CASE(priority_outranks_fair_share, fixture) {
  s.update_node(node("a", 2));
  submit("busy-0", 1, 0, "busy");
  BOOST_TEST(ids(s.schedule()) == "busy-0");
  submit("quiet-0", 1, 0, "quiet");
  submit("busy-urgent", 1, 1, "busy");
  BOOST_TEST(ids(s.schedule()) == "busy-urgent");
}

BOOST_FIXTURE_TEST_CASE(a_job_runs_after_its_dependencies_succeed, fixture) {
  s.update_node(node("a", 4));
  submit("extract", 1);
  submit("load", 1);
  auto later = job("report", ask(1));
  later.after = {"extract", "load"};
  BOOST_TEST_REQUIRE(s.enqueue(later));
  BOOST_TEST(ids(s.schedule()) == "extract load");
  BOOST_TEST(s.status().waiting == 1u);
  BOOST_TEST(s.dependency_done("extract", true).empty());
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(s.dependency_done("load", true).empty());
  BOOST_TEST(ids(s.schedule()) == "report");
  BOOST_TEST(s.status().waiting == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_failed_dependency_fails_its_dependants_transitively, fixture) {
  s.update_node(node("a", 4));
  submit("extract", 1);
  auto load = job("load", ask(1));
  load.after = {"extract"};
  auto report = job("report", ask(1));
  report.after = {"load", "other"};
  auto unrelated = job("unrelated", ask(1));
  unrelated.after = {"other"};
  for (const auto& j : {load, report, unrelated}) BOOST_TEST_REQUIRE(s.enqueue(j));
  BOOST_TEST(ids(s.schedule()) == "extract");
  auto failed = s.dependency_done("extract", false);
  BOOST_TEST((failed == std::vector<std::string>{"load", "report"}));
  BOOST_TEST(s.status().waiting == 1u);
  BOOST_TEST(s.dependency_done("other", true).empty());
  BOOST_TEST(ids(s.schedule()) == "unrelated");
}

BOOST_FIXTURE_TEST_CASE(a_withdrawn_job_never_starts, fixture) {
  s.update_node(node("a", 1));
  submit("running", 1);
  submit("cancelled", 1);
  submit("next", 1);
  auto placed = s.schedule();
  BOOST_TEST(s.withdraw("cancelled"));
  BOOST_TEST(!s.withdraw("cancelled"));
  finish(placed[0]);
  BOOST_TEST(ids(s.schedule()) == "next");
}

BOOST_FIXTURE_TEST_CASE(a_job_id_queued_twice_is_refused, fixture) {
  BOOST_TEST(s.enqueue(job("j", ask(1))));
  BOOST_TEST(!s.enqueue(job("j", ask(2))));
  BOOST_TEST(!s.enqueue(job("empty-gang", ask(1), 0)));
  BOOST_TEST(s.status().ready == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scheduler_placement)

BOOST_FIXTURE_TEST_CASE(a_task_goes_to_the_node_left_with_the_least_free, fixture) {
  s.update_node(node("big", 8));
  s.update_node(node("small", 3));
  s.update_node(node("tiny", 1));
  submit("j", 2);
  BOOST_TEST(nodes_of_the_one_placed() == "small");
}

BOOST_FIXTURE_TEST_CASE(a_job_without_gpus_leaves_the_gpu_node_alone, fixture) {
  s.update_node(node("gpu", 2, 8192, {0}));
  s.update_node(node("cpu", 16));
  submit("j", 1);
  BOOST_TEST(nodes_of_the_one_placed() == "cpu");
}

BOOST_FIXTURE_TEST_CASE(a_gang_spreads_over_nodes_and_packs_several_tasks_on_one, fixture) {
  s.update_node(node("a", 4));
  s.update_node(node("b", 2));
  BOOST_TEST_REQUIRE(s.enqueue(job("gang", ask(2), 3)));
  BOOST_TEST(nodes_of_the_one_placed() == "b a a");
  BOOST_TEST(cpus_used("a") == 4);
  BOOST_TEST(cpus_used("b") == 2);
}

BOOST_FIXTURE_TEST_CASE(a_gang_that_cannot_be_placed_whole_starts_no_task_and_holds_nothing,
                        fixture) {
  s.update_node(node("a", 2));
  s.update_node(node("b", 2));
  submit("running", 1);
  BOOST_TEST(ids(s.schedule()) == "running");
  BOOST_TEST_REQUIRE(s.enqueue(job("gang", ask(2), 2)));
  BOOST_TEST(s.schedule().empty());
  auto st = s.status();
  BOOST_TEST(st.nodes[0].cpus_used + st.nodes[1].cpus_used == 1);
  BOOST_TEST(st.tenants.size() == 1u);
  BOOST_TEST(st.tenants[0].tasks == 1u);
  // A gang larger than the cluster reserves nothing either: a small job still starts.
  BOOST_TEST_REQUIRE(s.enqueue(job("too-big", ask(2), 3, 1)));
  submit("small", 1, 0);
  BOOST_TEST(s.schedule().empty());  // the 2-task gang reserved both nodes
  BOOST_TEST(s.withdraw("gang"));
  BOOST_TEST(ids(s.schedule()) == "small");
}

BOOST_FIXTURE_TEST_CASE(gpus_are_handed_out_by_index_and_returned, fixture) {
  s.update_node(node("g", 8, 65536, {3, 0, 2, 1}));
  BOOST_TEST_REQUIRE(s.enqueue(job("two", ask(1, 0, 2))));
  BOOST_TEST_REQUIRE(s.enqueue(job("one", ask(1, 0, 1))));
  auto placed = s.schedule();
  BOOST_TEST_REQUIRE(placed.size() == 2u);
  BOOST_TEST((placed[0].tasks[0].gpus == std::vector<uint32_t>{0, 1}));
  BOOST_TEST((placed[1].tasks[0].gpus == std::vector<uint32_t>{2}));
  BOOST_TEST((s.status().nodes[0].gpus_used == std::vector<uint32_t>{0, 1, 2}));
  finish(placed[0]);
  BOOST_TEST_REQUIRE(s.enqueue(job("gang", ask(1, 0, 1), 3)));
  auto gang = s.schedule();
  BOOST_TEST_REQUIRE(gang.size() == 1u);
  BOOST_TEST((gang[0].tasks[0].gpus == std::vector<uint32_t>{0}));
  BOOST_TEST((gang[0].tasks[1].gpus == std::vector<uint32_t>{1}));
  BOOST_TEST((gang[0].tasks[2].gpus == std::vector<uint32_t>{3}));
}

BOOST_FIXTURE_TEST_CASE(a_task_runs_only_on_a_node_carrying_every_requested_label, fixture) {
  s.update_node(node("a", 4, 8192, {}, {{"zone", "a"}}));
  s.update_node(node("b", 8, 8192, {}, {{"zone", "b"}, {"disk", "ssd"}}));
  s.update_node(node("c", 2, 8192, {}, {{"zone", "b"}}));
  BOOST_TEST_REQUIRE(s.enqueue(job("ssd", ask(1, 0, 0, {{"zone", "b"}, {"disk", "ssd"}}))));
  BOOST_TEST_REQUIRE(s.enqueue(job("zone-a", ask(1, 0, 0, {{"zone", "a"}}))));
  BOOST_TEST_REQUIRE(s.enqueue(job("nowhere", ask(1, 0, 0, {{"zone", "c"}}))));
  auto placed = s.schedule();
  BOOST_TEST_REQUIRE(placed.size() == 2u);
  BOOST_TEST(nodes_of(placed[0]) == "b");
  BOOST_TEST(nodes_of(placed[1]) == "a");
  BOOST_TEST(s.status().ready == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_big_job_is_not_starved_by_a_stream_of_small_ones, fixture) {
  s.update_node(node("a", 2));
  s.update_node(node("b", 2));
  std::vector<placement> running;
  int small = 0;
  auto more_small = [&](int n) {
    for (int i = 0; i < n; ++i) submit("small-" + std::to_string(small++), 1);
  };
  more_small(4);
  auto first = s.schedule();
  running.insert(running.end(), first.begin(), first.end());
  submit("big", 2);
  more_small(8);
  // Small tasks end one at a time and more keep coming; the big one must get its node.
  bool big_started = false;
  for (int round = 0; round < 20 && !big_started; ++round) {
    finish(running.front());
    running.erase(running.begin());
    more_small(1);
    for (auto& p : s.schedule()) {
      big_started = big_started || p.job_id == "big";
      running.push_back(p);
    }
  }
  BOOST_TEST(big_started);
}

BOOST_FIXTURE_TEST_CASE(small_jobs_start_only_where_the_waiting_big_job_reserved_nothing, fixture) {
  s.update_node(node("a", 2));
  s.update_node(node("b", 4));
  s.update_node(node("c", 2));
  submit("on-b", 3);
  submit("on-a", 2);
  BOOST_TEST(ids(s.schedule()) == "on-b on-a");
  submit("big", 3);  // only b can ever hold it: b is reserved
  submit("small", 1);
  BOOST_TEST(nodes_of_the_one_placed() == "c");  // best fit alone would have taken b's last CPU
  BOOST_TEST(cpus_used("b") == 3);
}

BOOST_FIXTURE_TEST_CASE(drained_suspect_and_removed_nodes_get_no_new_work, fixture) {
  s.update_node(node("a", 2));
  submit("before", 1);
  BOOST_TEST(ids(s.schedule()) == "before");
  auto drained = node("a", 2);
  drained.schedulable = false;
  s.update_node(drained);
  submit("after", 1);
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(cpus_used("a") == 1);  // the task already there keeps its CPU
  s.update_node(node("b", 2));
  BOOST_TEST(ids(s.schedule()) == "after");
  s.remove_node("b");  // dead: its task's resources go with it
  BOOST_TEST(!s.release("after", 0));
  submit("later", 1);
  BOOST_TEST(s.schedule().empty());
  s.update_node(node("a", 2));  // undrained
  BOOST_TEST(ids(s.schedule()) == "later");
}

BOOST_FIXTURE_TEST_CASE(resources_return_to_exactly_zero_after_all_jobs_end, fixture) {
  s.update_node(node("a", 1, 1000, {0, 1}));
  s.update_node(node("b", 1.5, 1000));
  for (int i = 0; i < 10; ++i)
    BOOST_TEST_REQUIRE(s.enqueue(job("j" + std::to_string(i), ask(0.1, 30, i == 0 ? 1 : 0),
                                     i % 3 == 0 ? 2 : 1, 0, i % 2 ? "x" : "y")));
  auto placed = s.schedule();
  BOOST_TEST(placed.size() == 10u);
  for (const auto& p : placed) finish(p);
  for (const auto& p : placed) BOOST_TEST(!s.release(p.job_id, 0));  // twice: no effect
  auto st = s.status();
  for (const auto& n : st.nodes) {
    BOOST_TEST(n.cpus_used == 0);
    BOOST_TEST(n.memory_used_mb == 0u);
    BOOST_TEST(n.gpus_used.empty());
    BOOST_TEST(n.tasks == 0u);
  }
  BOOST_TEST(st.tenants.empty());
  BOOST_TEST(st.ready == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_task_recovered_after_a_head_restart_holds_its_resources, fixture) {
  s.update_node(node("g", 4, 8192, {0, 1}));
  BOOST_TEST(s.hold("old", 0, "t", {"g", {1}}, ask(3, 0, 1)));
  BOOST_TEST(!s.hold("old", 0, "t", {"g", {1}}, ask(3, 0, 1)));    // held already
  BOOST_TEST(!s.hold("other", 0, "t", {"g", {1}}, ask(1, 0, 1)));  // its GPU is taken
  BOOST_TEST(!s.hold("lost", 0, "t", {"gone", {}}, ask(1)));       // unknown node
  BOOST_TEST_REQUIRE(s.enqueue(job("new", ask(1, 0, 1))));
  auto placed = s.schedule();
  BOOST_TEST_REQUIRE(placed.size() == 1u);
  BOOST_TEST((placed[0].tasks[0].gpus == std::vector<uint32_t>{0}));
  BOOST_TEST(cpus_used("g") == 4);
}

BOOST_FIXTURE_TEST_CASE(a_task_queued_alone_is_placed_alone_and_holds_under_its_own_index,
                        fixture) {
  s.update_node(node("a", 2));
  s.update_node(node("b", 1));
  BOOST_TEST_REQUIRE(s.enqueue(job("replicas", ask(1), 3)));
  const auto first = s.schedule();
  BOOST_TEST_REQUIRE(first.size() == 1u);
  BOOST_TEST(nodes_of(first[0]) == "b a a");
  BOOST_TEST(s.release("replicas", 1));  // task 1 ended; tasks 0 and 2 run on
  BOOST_TEST_REQUIRE(s.enqueue(task_alone("replicas", 1, ask(1))));
  const auto again = s.schedule();
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST((again[0].task == std::optional<uint32_t>(1)));
  BOOST_TEST(nodes_of(again[0]) == "a");
  BOOST_TEST(cpus_used("a") == 2);
  BOOST_TEST(!s.release("replicas", 3));
  for (uint32_t task = 0; task < 3; ++task) BOOST_TEST(s.release("replicas", task));
  BOOST_TEST(cpus_used("a") == 0);
}

BOOST_FIXTURE_TEST_CASE(tasks_of_one_job_queue_alone_side_by_side_and_leave_together, fixture) {
  s.update_node(node("a", 1));
  BOOST_TEST(s.enqueue(task_alone("replicas", 0, ask(2))));
  BOOST_TEST(s.enqueue(task_alone("replicas", 1, ask(2))));
  BOOST_TEST(!s.enqueue(task_alone("replicas", 1, ask(2))));  // queued already
  BOOST_TEST(s.status().ready == 2u);
  BOOST_TEST(s.withdraw("replicas"));
  BOOST_TEST(!s.withdraw("replicas"));
  BOOST_TEST(s.status().ready == 0u);
  s.update_node(node("a", 4));
  BOOST_TEST(s.schedule().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scheduler_never_fits)

BOOST_FIXTURE_TEST_CASE(a_request_some_node_could_hold_fits, fixture) {
  s.update_node(node("a", 4, 8192, {0, 1}, {{"zone", "a"}}));
  BOOST_TEST(!s.never_fits(ask(4, 8192, 2, {{"zone", "a"}}), 1).has_value());
}

BOOST_FIXTURE_TEST_CASE(each_impossible_request_is_refused_naming_the_field, fixture) {
  BOOST_TEST(s.never_fits(ask(1), 1).value() == "resources: the cluster has no node yet");
  s.update_node(node("a", 4, 8192, {0, 1}, {{"zone", "a"}}));
  s.update_node(node("b", 8, 4096, {}, {{"zone", "b"}, {"disk", "ssd"}}));
  BOOST_TEST(s.never_fits(ask(1, 0, 4), 1).value() ==
             "resources.gpus: 4 per task, but the largest node has 2");
  BOOST_TEST(s.never_fits(ask(16), 1).value() ==
             "resources.cpus: 16 per task, but the largest node has 8");
  BOOST_TEST(s.never_fits(ask(0.5, 9000), 1).value() ==
             "resources.memory_mb: 9000 per task, but the largest node has 8192");
  BOOST_TEST(s.never_fits(ask(1, 0, 0, {{"zone", "c"}}), 1).value() ==
             "resources.labels: no node has zone=c");
  BOOST_TEST(s.never_fits(ask(1, 0, 0, {{"zone", "a"}, {"disk", "ssd"}}), 1).value() ==
             "resources.labels: no node has all of disk=ssd, zone=a");
  BOOST_TEST(s.never_fits(ask(6, 0, 0, {{"zone", "a"}}), 1).value() ==
             "resources.cpus: 6 per task, but the largest node with those labels has 4");
  BOOST_TEST(s.never_fits(ask(6, 0, 1), 1).value() ==
             "resources: 6 cpus, 0 memory_mb and 1 gpus per task, but no node has them all");
  BOOST_TEST(s.never_fits(ask(4), 4).value() ==
             "tasks: 4, but the cluster holds at most 3 tasks of this size at once");
}

BOOST_FIXTURE_TEST_CASE(a_gang_may_spread_over_nodes_and_drained_nodes_count, fixture) {
  s.update_node(node("a", 4));
  auto drained = node("b", 4);
  drained.schedulable = false;
  s.update_node(drained);
  BOOST_TEST(!s.never_fits(ask(2), 4).has_value());
  s.remove_node("b");
  BOOST_TEST(s.never_fits(ask(2), 4).value() ==
             "tasks: 4, but the cluster holds at most 2 tasks of this size at once");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scheduler_random)

// Random clusters and jobs (some elastic), random task ends: placements never overcommit a
// node, hand out distinct GPUs on nodes carrying the labels asked, give a job between its
// fewest tasks and all of them; once everything has ended, every job still queued is one that
// never fits, and nothing is in use.
BOOST_FIXTURE_TEST_CASE(random_workloads_keep_the_books_and_leave_only_jobs_that_never_fit,
                        fixture) {
  // Replay a run with TROUPE_TEST_SEED=<the seed it printed>.
  const char* given = std::getenv("TROUPE_TEST_SEED");
  const uint64_t seed = given ? std::stoull(given, nullptr, 0) : std::random_device{}();
  BOOST_TEST_MESSAGE("seed " << seed << " (replay with TROUPE_TEST_SEED=" << seed << ")");
  std::mt19937_64 random(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
  auto fewest = [](const queued_job& j) { return j.min_tasks == 0 ? j.tasks : j.min_tasks; };
  const std::vector<std::map<std::string, std::string>> label_sets{{}, {{"zone", "a"}}};

  for (int trial = 0; trial < 50; ++trial) {
    scheduling::scheduler fresh;
    std::map<std::string, node_capacity> cluster;
    for (int n = pick(1, 4); n > 0; --n) {
      std::vector<uint32_t> gpus;
      for (int g = pick(0, 2); g > 0; --g) gpus.push_back(static_cast<uint32_t>(g));
      auto c = node("n" + std::to_string(n), pick(1, 16) / 2.0, 1024u * pick(1, 8), gpus,
                    label_sets[pick(0, 1)]);
      cluster[c.node_id] = c;
      fresh.update_node(c);
    }
    std::map<std::string, queued_job> asked;
    std::vector<placement> running;
    auto check = [&](const std::vector<placement>& placed) {
      for (const auto& p : placed) {
        const auto& j = asked.at(p.job_id);
        BOOST_TEST_REQUIRE(p.tasks.size() <= j.tasks, "seed " << seed);
        BOOST_TEST_REQUIRE(p.tasks.size() >= fewest(j), "seed " << seed);
        for (const auto& t : p.tasks) {
          BOOST_TEST_REQUIRE(scheduling::carries(cluster.at(t.node_id).labels, j.per_task.labels));
          BOOST_TEST_REQUIRE(t.gpus.size() == j.per_task.gpus, "seed " << seed);
        }
      }
      for (const auto& n : fresh.status().nodes) {
        BOOST_TEST_REQUIRE(n.cpus_used <= n.cpus + 1e-9, "seed " << seed);
        BOOST_TEST_REQUIRE(n.memory_used_mb <= n.memory_mb, "seed " << seed);
        for (uint32_t g : n.gpus_used)
          BOOST_TEST_REQUIRE(std::count(n.gpus.begin(), n.gpus.end(), g) == 1);
      }
    };
    for (int step = 0; step < 40; ++step) {
      for (int k = pick(0, 3); k > 0; --k) {
        auto j = job("j" + std::to_string(next_order),
                     ask(pick(1, 40) / 10.0, 256u * pick(0, 8), pick(0, 4) == 0 ? 1 : 0,
                         label_sets[pick(0, 1)]),
                     pick(1, 3), pick(0, 2), "t" + std::to_string(pick(0, 2)));
        j.min_tasks = static_cast<uint32_t>(pick(0, static_cast<int>(j.tasks)));  // 0: all
        asked[j.job_id] = j;
        BOOST_TEST_REQUIRE(fresh.enqueue(j));
      }
      auto placed = fresh.schedule();
      check(placed);
      running.insert(running.end(), placed.begin(), placed.end());
      while (!running.empty() && pick(0, 1)) {
        size_t i = static_cast<size_t>(pick(0, static_cast<int>(running.size()) - 1));
        for (uint32_t t = 0; t < running[i].tasks.size(); ++t) fresh.release(running[i].job_id, t);
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    // Let everything run to its end.
    for (;;) {
      for (const auto& p : running)
        for (uint32_t t = 0; t < p.tasks.size(); ++t) fresh.release(p.job_id, t);
      running = fresh.schedule();
      check(running);
      if (running.empty()) break;
    }
    size_t never = 0;
    for (const auto& [id, j] : asked) never += fresh.never_fits(j.per_task, fewest(j)) ? 1 : 0;
    auto st = fresh.status();
    BOOST_TEST_REQUIRE(st.ready == never, "seed " << seed << ", trial " << trial);
    BOOST_TEST_REQUIRE(st.tenants.empty(), "seed " << seed);
    for (const auto& n : st.nodes) BOOST_TEST_REQUIRE(n.tasks == 0u, "seed " << seed);
  }
}

BOOST_AUTO_TEST_SUITE_END()
