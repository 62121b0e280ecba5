#include <boost/test/unit_test.hpp>

#include <map>

#include "cluster/jobs/job_ids.hpp"
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "spec_checks.hpp"

using namespace troupe::jobs;
using namespace troupe::jobs::test;

namespace {

using env_map = std::multimap<std::string, std::string>;

env_map env_of(const task_launch& launch) { return {launch.env.begin(), launch.env.end()}; }

task_launch launch(const std::string& spec_text, const task_context& task) {
  const auto spec = parse_job_spec(spec_text);
  return find_kind(spec.kind)->launch(spec, task);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(command_fields)

BOOST_AUTO_TEST_CASE(argv_and_shell_together_are_refused) {
  BOOST_TEST(refused(command_spec("shell: echo hi\n")) ==
             (refusal{"shell", "shell: give argv or shell, not both"}));
}

BOOST_AUTO_TEST_CASE(neither_argv_nor_shell_is_refused) {
  BOOST_TEST(refused("name: a\nkind: command\n") ==
             (refusal{"argv", "argv: required field missing (give argv or shell)"}));
}

BOOST_AUTO_TEST_CASE(an_empty_argv_is_refused) {
  BOOST_TEST(refused("name: a\nkind: command\nargv: []\n") ==
             (refusal{"argv", "argv: expected 1 to 4096 arguments, got 0"}));
}

BOOST_AUTO_TEST_CASE(more_than_4096_arguments_are_refused) {
  std::string argv = "argv: [x";
  for (int i = 0; i < 4096; ++i) argv += ", x";
  BOOST_TEST(refused("name: a\nkind: command\n" + argv + "]\n") ==
             (refusal{"argv", "argv: expected 1 to 4096 arguments, got 4097"}));
}

BOOST_AUTO_TEST_CASE(an_empty_program_name_is_refused) {
  BOOST_TEST(refused("name: a\nkind: command\nargv: [\"\", x]\n") ==
             (refusal{"argv[0]", "argv[0]: expected the program to run, got \"\""}));
}

BOOST_AUTO_TEST_CASE(an_empty_shell_command_is_refused) {
  BOOST_TEST(refused("name: a\nkind: command\nshell: ''\n") ==
             (refusal{"shell", "shell: expected a command, got \"\""}));
}

BOOST_AUTO_TEST_CASE(a_relative_workdir_is_refused) {
  BOOST_TEST(refused(command_spec("workdir: srv/etl\n")) ==
             (refusal{"workdir", "workdir: expected an absolute path, got \"srv/etl\""}));
}

BOOST_AUTO_TEST_CASE(an_env_name_that_is_not_a_variable_name_is_refused) {
  BOOST_TEST(
      refused(command_spec("env: {1ST: x}\n")) ==
      (refusal{"env", "env: expected variable names of [A-Za-z_][A-Za-z0-9_]*, got \"1ST\""}));
  BOOST_TEST(refused(command_spec("env: {A-B: x}\n")).field == "env");
}

BOOST_AUTO_TEST_CASE(an_env_value_with_a_control_character_is_refused) {
  BOOST_TEST(refused(command_spec("env: {A: \"x\\ty\"}\n")) ==
             (refusal{"env.A", "env.A: expected text without control characters, got \"x\\ty\""}));
}

BOOST_AUTO_TEST_CASE(an_unquoted_number_as_env_value_is_a_wrong_type) {
  BOOST_TEST(refused(command_spec("env: {WORKERS: 4}\n")) ==
             (refusal{"env.WORKERS", "env.WORKERS: expected a string, got 4"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(command_launch)

BOOST_AUTO_TEST_CASE(argv_runs_as_given_and_shell_through_bin_sh) {
  BOOST_TEST(launch(command_spec(), gang_task(0, 0)).argv ==
             (std::vector<std::string>{"echo", "hi"}));
  BOOST_TEST(launch("name: a\nkind: command\nshell: echo $HOME | wc -c\n", gang_task(0, 0)).argv ==
             (std::vector<std::string>{"/bin/sh", "-c", "echo $HOME | wc -c"}));
}

BOOST_AUTO_TEST_CASE(the_launch_carries_the_specs_limits_and_the_tasks_gpus) {
  auto task = gang_task(1, 29500);
  task.gpus = {2, 3};
  const auto l = launch(command_spec("resources: {cpus: 2.5, memory_mb: 512, gpus: 2}\n"
                                     "timeout_s: 90\nworkdir: /srv/etl\n"),
                        task);
  BOOST_TEST(l.attempt_id == "j00000000000000aa.1.1");
  BOOST_TEST(l.cpus == 2.5);
  BOOST_TEST(l.memory_limit_mb == 512u);
  BOOST_TEST(l.timeout_ms == 90000u);
  BOOST_TEST(l.gpus == (std::vector<uint32_t>{2, 3}));
  BOOST_TEST(l.workdir == "/srv/etl");
}

BOOST_AUTO_TEST_CASE(no_workdir_leaves_the_task_in_its_own_directory) {
  BOOST_TEST(launch(command_spec(), gang_task(0, 0)).workdir == "");
}

BOOST_AUTO_TEST_CASE(task_0_of_a_gang_gets_the_torchrun_environment_and_picks_the_port) {
  const auto l = launch(command_spec("tasks: 2\n"), gang_task(0, 0));
  const env_map expected{{"TROUPE_JOB_ID", "j00000000000000aa"},
                         {"TROUPE_TASK_INDEX", "0"},
                         {"TROUPE_TASK_COUNT", "2"},
                         {"TROUPE_ATTEMPT_ID", "j00000000000000aa.0.1"},
                         {"RANK", "0"},
                         {"WORLD_SIZE", "2"},
                         {"LOCAL_RANK", "0"},
                         {"LOCAL_WORLD_SIZE", "1"},
                         {"MASTER_ADDR", "10.0.0.1"}};
  BOOST_TEST((env_of(l) == expected));
  BOOST_TEST(l.pick_master_port);
}

BOOST_AUTO_TEST_CASE(task_1_of_a_gang_gets_task_0s_address_and_port) {
  const auto l = launch(command_spec("tasks: 2\n"), gang_task(1, 29500));
  const env_map expected{{"TROUPE_JOB_ID", "j00000000000000aa"},
                         {"TROUPE_TASK_INDEX", "1"},
                         {"TROUPE_TASK_COUNT", "2"},
                         {"TROUPE_ATTEMPT_ID", "j00000000000000aa.1.1"},
                         {"RANK", "1"},
                         {"WORLD_SIZE", "2"},
                         {"LOCAL_RANK", "0"},
                         {"LOCAL_WORLD_SIZE", "1"},
                         {"MASTER_ADDR", "10.0.0.1"},
                         {"MASTER_PORT", "29500"}};
  BOOST_TEST((env_of(l) == expected));
  BOOST_TEST(!l.pick_master_port);
}

BOOST_AUTO_TEST_CASE(two_tasks_on_one_node_get_their_local_ranks) {
  auto task = gang_task(1, 29500);
  task.local_rank = 1;
  task.local_world_size = 2;
  const auto env = env_of(launch(command_spec("tasks: 2\n"), task));
  BOOST_TEST(env.find("LOCAL_RANK")->second == "1");
  BOOST_TEST(env.find("LOCAL_WORLD_SIZE")->second == "2");
}

BOOST_AUTO_TEST_CASE(the_tasks_of_a_gang_are_ranks_with_a_rank_link_and_a_single_task_is_not) {
  BOOST_TEST(launch(command_spec("tasks: 2\n"), gang_task(0, 0)).rank_link);
  BOOST_TEST(launch(command_spec("tasks: 2\n"), gang_task(1, 29500)).rank_link);
  auto single = gang_task(0, 0);
  single.task_count = 1;
  BOOST_TEST(!launch(command_spec(""), single).rank_link);
}

BOOST_AUTO_TEST_CASE(task_0_does_not_pick_a_port_it_was_given) {
  const auto l = launch(command_spec("tasks: 2\n"), gang_task(0, 29500));
  BOOST_TEST(!l.pick_master_port);
  BOOST_TEST(env_of(l).find("MASTER_PORT")->second == "29500");
}

BOOST_AUTO_TEST_CASE(troupes_variables_win_over_the_specs_env_of_the_same_name) {
  const auto l = launch(command_spec("env: {RANK: '7', MASTER_PORT: '1', TROUPE_JOB_ID: forged, "
                                     "LOG_LEVEL: info}\n"),
                        gang_task(0, 0));
  const auto env = env_of(l);
  BOOST_TEST(env.count("RANK") == 1u);
  BOOST_TEST(env.find("RANK")->second == "0");
  BOOST_TEST(env.count("TROUPE_JOB_ID") == 1u);
  BOOST_TEST(env.find("TROUPE_JOB_ID")->second == "j00000000000000aa");
  BOOST_TEST(env.count("MASTER_PORT") == 0u);  // task 0's node sets it when it picks the port
  BOOST_TEST(env.find("LOG_LEVEL")->second == "info");
}

BOOST_AUTO_TEST_SUITE_END()
