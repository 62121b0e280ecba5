// The scheduler's standbys (a job waiting behind a running task, placed where it will end) and
// elastic gangs (started on as many tasks as fit, never fewer than their minimum, grown back when
// queued again).
#include <boost/test/unit_test.hpp>

#include "tests/unit/actors/scheduler_fixture.hpp"

using namespace troupe;
using namespace troupe::scheduler_testing;

BOOST_AUTO_TEST_SUITE(scheduler_standbys)

BOOST_FIXTURE_TEST_CASE(a_job_that_cannot_start_waits_behind_a_running_task_and_takes_its_place,
                        standby_fixture) {
  s.update_node(node("a", 1));
  submit("x", 1);
  submit("y", 1);
  submit("z", 1);
  auto placed = s.schedule();
  BOOST_TEST_REQUIRE(ids(placed) == "x y");
  BOOST_TEST(!placed[0].after);
  BOOST_TEST_REQUIRE(placed[1].after.has_value());
  BOOST_TEST(placed[1].after->job_id == "x");
  BOOST_TEST(nodes_of(placed[1]) == "a");
  // The standby holds nothing while it waits; z waits in the queue (one standby per task).
  BOOST_TEST(cpus_used("a") == 1);
  BOOST_TEST(standbys() == 1u);
  BOOST_TEST(s.status().ready == 1u);
  BOOST_TEST(s.status().tenants.at(0).cpus == 1);
  BOOST_TEST(s.release("x", 0));  // y holds x's place now, and z may follow y
  BOOST_TEST(cpus_used("a") == 1);
  BOOST_TEST(standbys() == 0u);
  BOOST_TEST(standby_placed() == "y.0");
  BOOST_TEST(s.release("y", 0));
  BOOST_TEST(s.release("z", 0));
  BOOST_TEST(!s.release("z", 0));
  BOOST_TEST(cpus_used("a") == 0);
  BOOST_TEST(s.status().tenants.empty());
}

BOOST_FIXTURE_TEST_CASE(a_standby_cancelled_before_its_turn_returns_nothing_and_frees_its_place,
                        standby_fixture) {
  s.update_node(node("a", 1));
  submit("x", 1);
  submit("y", 1);
  BOOST_TEST(ids(s.schedule()) == "x y");
  BOOST_TEST(s.release("y", 0));  // cancelled while it waits
  BOOST_TEST(!s.release("y", 0));
  BOOST_TEST(cpus_used("a") == 1);
  BOOST_TEST(standbys() == 0u);
  submit("z", 1);
  BOOST_TEST(standby_placed() == "x.0");  // z waits in y's place
  BOOST_TEST(s.release("x", 0));
  BOOST_TEST(s.release("z", 0));
  BOOST_TEST(cpus_used("a") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_chain_of_two_waits_behind_a_running_task_and_moves_up_as_each_ends,
                        standby_fixture) {
  s.update_node(node("a", 1));
  for (const auto* id : {"x", "y", "z", "w"}) submit(id, 1);
  BOOST_TEST(ids(s.schedule()) == "x y");  // one standby per node and pass
  BOOST_TEST(standby_placed() == "y.0");   // z behind y, behind x
  BOOST_TEST(s.schedule().empty(), "w: the chain behind x is full");
  BOOST_TEST(standbys() == 2u);
  BOOST_TEST(cpus_used("a") == 1);
  BOOST_TEST(s.release("x", 0));  // y holds x's place, z still behind it
  BOOST_TEST(cpus_used("a") == 1);
  BOOST_TEST(standbys() == 1u);
  BOOST_TEST(standby_placed() == "z.0");  // w behind z, behind y
  BOOST_TEST(s.release("y", 0));
  BOOST_TEST(s.release("z", 0));
  BOOST_TEST(standbys() == 0u);
  BOOST_TEST(s.release("w", 0));
  BOOST_TEST(cpus_used("a") == 0);
  BOOST_TEST(s.status().tenants.empty());
}

BOOST_FIXTURE_TEST_CASE(a_standby_cancelled_inside_a_chain_leaves_the_one_behind_it_its_place,
                        standby_fixture) {
  s.update_node(node("a", 1));
  for (const auto* id : {"x", "y", "z"}) submit(id, 1);
  BOOST_TEST(ids(s.schedule()) == "x y");
  BOOST_TEST(standby_placed() == "y.0");
  BOOST_TEST(s.release("y", 0));  // cancelled while it waits: z follows x now
  BOOST_TEST(standbys() == 1u);
  submit("w", 1);
  BOOST_TEST(standby_placed() == "z.0");  // the chain has room again, behind z
  BOOST_TEST(s.release("x", 0));
  BOOST_TEST(cpus_used("a") == 1);  // z holds it
  BOOST_TEST(standbys() == 1u);
  BOOST_TEST(s.release("z", 0));
  BOOST_TEST(s.release("w", 0));
  BOOST_TEST(cpus_used("a") == 0);
  s.remove_node("a");
}

BOOST_FIXTURE_TEST_CASE(a_standby_being_killed_gets_no_standby_behind_it, standby_fixture) {
  // Its node drops it on the kill: one placed behind it would find nothing to wait for there.
  s.update_node(node("a", 1));
  submit("x", 1);
  submit("y", 1);
  BOOST_TEST(ids(s.schedule()) == "x y");
  s.close_standby("y", 0);
  s.close_standby("x", 0);  // a running task: nothing changes
  submit("z", 1);
  BOOST_TEST(standby_placed() == "", "z waits in the queue");
  BOOST_TEST(s.release("y", 0));  // its end reported
  BOOST_TEST(standby_placed() == "x.0");
  BOOST_TEST(s.release("x", 0));
  BOOST_TEST(s.release("z", 0));
  BOOST_TEST(cpus_used("a") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_dead_node_takes_its_standby_chains_with_it, standby_fixture) {
  s.update_node(node("a", 1));
  for (const auto* id : {"x", "y", "z"}) submit(id, 1);
  BOOST_TEST(ids(s.schedule()) == "x y");
  BOOST_TEST(standby_placed() == "y.0");
  s.remove_node("a");
  BOOST_TEST(standbys() == 0u);
  BOOST_TEST(!s.release("z", 0));
  BOOST_TEST(s.status().tenants.empty());
}

BOOST_FIXTURE_TEST_CASE(a_dead_node_takes_its_standby_with_it, standby_fixture) {
  s.update_node(node("a", 1));
  s.update_node(node("b", 1));
  submit("x", 1);
  submit("y", 1);
  submit("sx", 1);
  submit("sy", 1);
  BOOST_TEST(ids(s.schedule()) == "x y sx sy");
  BOOST_TEST(standbys() == 2u);
  s.remove_node("a");
  BOOST_TEST(standbys() == 1u);
  BOOST_TEST(!s.release("x", 0));   // released with its node
  BOOST_TEST(!s.release("sx", 0));  // waited there: nothing to return
  BOOST_TEST(s.status().tenants.at(0).cpus == 1);
  BOOST_TEST(s.release("y", 0));
  BOOST_TEST(s.release("sy", 0));
  BOOST_TEST(cpus_used("b") == 0);
  BOOST_TEST(s.status().tenants.empty());
}

BOOST_FIXTURE_TEST_CASE(gangs_gpu_jobs_and_jobs_larger_than_the_running_task_get_no_standby,
                        standby_fixture) {
  s.update_node(node("a", 4, 8192, {0}));
  BOOST_TEST_REQUIRE(s.enqueue(job("small", ask(2))));
  BOOST_TEST_REQUIRE(s.enqueue(job("rest", ask(2, 0, 1))));
  BOOST_TEST(ids(s.schedule()) == "small rest");
  BOOST_TEST_REQUIRE(s.enqueue(job("gang", ask(1), 2)));
  BOOST_TEST_REQUIRE(s.enqueue(job("gpu", ask(1, 0, 1))));
  BOOST_TEST_REQUIRE(s.enqueue(job("large", ask(3))));
  BOOST_TEST_REQUIRE(s.enqueue(job("memory", ask(1, 100))));  // small asked no memory
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(standbys() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_task_recovered_after_a_head_restart_gets_no_standby, standby_fixture) {
  // Either could be a standby its node has not started yet: a standby behind it would start
  // on the node at once, beside the task the node runs.
  s.update_node(node("a", 1));
  BOOST_TEST(s.hold("running", 0, "t", {"a", {}}, ask(1)));
  BOOST_TEST(s.hold("waiting", 0, "t", {"a", {}}, ask(1)));
  submit("next", 1);
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(standbys() == 0u);
  BOOST_TEST(s.release("running", 0));
  BOOST_TEST(s.schedule().empty());  // "waiting" holds the node now
  BOOST_TEST(s.release("waiting", 0));
  BOOST_TEST(ids(s.schedule()) == "next");
}

BOOST_FIXTURE_TEST_CASE(a_standby_never_takes_the_place_a_job_ahead_reserved, standby_fixture) {
  s.update_node(node("a", 2));
  submit("r1", 1);
  submit("r2", 1);
  BOOST_TEST(ids(s.schedule()) == "r1 r2");
  submit("big", 2);  // waits for a whole: reserves it
  submit("small", 1);
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(s.release("r1", 0));
  BOOST_TEST(s.release("r2", 0));
  BOOST_TEST(ids(s.schedule()) == "big small");  // small waits behind big now
  BOOST_TEST(standbys() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scheduler_elastic)

namespace {

// A gang of `tasks` that may start on as few as `min_tasks`.
struct elastic_fixture : fixture {
  queued_job elastic(const std::string& id, double cpus, uint32_t tasks, uint32_t min_tasks) {
    auto j = job(id, ask(cpus), tasks);
    j.min_tasks = min_tasks;
    return j;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(an_elastic_gang_takes_every_task_when_all_fit, elastic_fixture) {
  s.update_node(node("a", 1));
  s.update_node(node("b", 1));
  BOOST_TEST_REQUIRE(s.enqueue(elastic("e", 1, 2, 1)));
  BOOST_TEST(nodes_of_the_one_placed() == "a b");
}

BOOST_FIXTURE_TEST_CASE(an_elastic_gang_that_cannot_be_placed_whole_starts_on_as_many_as_fit,
                        elastic_fixture) {
  s.update_node(node("a", 2));
  s.update_node(node("b", 1));
  BOOST_TEST_REQUIRE(s.enqueue(elastic("e", 1, 4, 2)));
  BOOST_TEST(nodes_of_the_one_placed() == "b a a");  // best fit, as for a whole gang
  BOOST_TEST(cpus_used("a") == 2);
  BOOST_TEST(cpus_used("b") == 1);
}

BOOST_FIXTURE_TEST_CASE(an_elastic_gang_never_starts_on_fewer_than_its_minimum, elastic_fixture) {
  s.update_node(node("a", 1));
  BOOST_TEST_REQUIRE(s.enqueue(elastic("e", 1, 3, 2)));
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(cpus_used("a") == 0);
  BOOST_TEST(s.status().ready == 1u);  // still queued
  s.update_node(node("b", 1));
  BOOST_TEST(nodes_of_the_one_placed() == "a b");
}

BOOST_FIXTURE_TEST_CASE(a_gang_that_is_not_elastic_still_starts_whole_or_not_at_all,
                        elastic_fixture) {
  s.update_node(node("a", 1));
  s.update_node(node("b", 1));
  BOOST_TEST_REQUIRE(s.enqueue(job("gang", ask(1), 3)));
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(cpus_used("a") + cpus_used("b") == 0);
  // A minimum of all its tasks is the same as none.
  BOOST_TEST_REQUIRE(s.enqueue(elastic("all", 1, 3, 3)));
  BOOST_TEST(s.schedule().empty());
  BOOST_TEST(cpus_used("a") + cpus_used("b") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_shrunk_elastic_gang_queued_again_grows_back_to_what_fits,
                        elastic_fixture) {
  s.update_node(node("a", 1));
  s.update_node(node("b", 1));
  BOOST_TEST_REQUIRE(s.enqueue(elastic("e", 1, 2, 1)));
  BOOST_TEST(nodes_of_the_one_placed() == "a b");
  s.remove_node("b");  // its task with it
  BOOST_TEST(s.release("e", 0));
  BOOST_TEST_REQUIRE(s.enqueue(elastic("e", 1, 2, 1)));  // the retry
  const auto shrunk = s.schedule();
  BOOST_TEST_REQUIRE(shrunk.size() == 1u);
  BOOST_TEST(nodes_of(shrunk[0]) == "a");
  BOOST_TEST(s.release("e", 0));
  s.update_node(node("b", 1));
  BOOST_TEST_REQUIRE(s.enqueue(elastic("e", 1, 2, 1)));  // the next retry
  BOOST_TEST(nodes_of_the_one_placed() == "a b");
}

BOOST_FIXTURE_TEST_CASE(an_elastic_gang_that_cannot_start_reserves_for_its_minimum_only,
                        elastic_fixture) {
  for (const char* id : {"a", "b", "c"}) s.update_node(node(id, 2));
  for (const char* id : {"a", "b", "c"})  // one CPU left on each node
    BOOST_TEST_REQUIRE(s.hold(std::string("r") + id, 0, "t", {id, {}}, ask(1)));
  BOOST_TEST_REQUIRE(s.enqueue(elastic("e", 2, 3, 1)));
  submit("small", 1);
  // e reserves one node's capacity (a, the first of the equally close), so small starts on b;
  // reserving for all three tasks would have held every node.
  auto placed = s.schedule();
  BOOST_TEST_REQUIRE(ids(placed) == "small");
  BOOST_TEST(nodes_of(placed[0]) == "b");
  BOOST_TEST(s.release("ra", 0));
  BOOST_TEST(nodes_of_the_one_placed() == "a");  // e, on the one task that fits
}

BOOST_AUTO_TEST_SUITE_END()
