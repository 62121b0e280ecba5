// How a task's environment is layered and where its program is looked up.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "cluster/runner/blas_kernels.hpp"
#include "cluster/runner/task_environment.hpp"

namespace troupe::runner::test {
namespace {

using strings = std::vector<std::string>;

std::string value_of(const strings& environment, const std::string& name) {
  for (const auto& entry : environment)
    if (entry.rfind(name + "=", 0) == 0) return entry.substr(name.size() + 1);
  return "<unset>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(task_environment)

BOOST_AUTO_TEST_CASE(the_spec_overrides_the_daemon_and_thread_counts_but_not_gpus_or_the_port) {
  const char* daemon[] = {
      "HOME=/root", "A=daemon", "OMP_NUM_THREADS=9", "MASTER_PORT=1", "CUDA_VISIBLE_DEVICES=7",
      nullptr};
  jobs::task_launch launch;
  launch.attempt_id = "j.0.1";
  launch.cpus = 3.9;
  launch.gpus = {0, 2};
  launch.env = {
      {"A", "spec"}, {"MKL_NUM_THREADS", "1"}, {"CUDA_VISIBLE_DEVICES", "5"}, {"MASTER_PORT", "2"}};
  auto environment = runner::task_environment(launch, daemon, 29500);
  BOOST_TEST(value_of(environment, "HOME") == "/root");
  BOOST_TEST(value_of(environment, "A") == "spec");
  BOOST_TEST(value_of(environment, "OMP_NUM_THREADS") == "3");
  BOOST_TEST(value_of(environment, "OPENBLAS_NUM_THREADS") == "3");
  BOOST_TEST(value_of(environment, "MKL_NUM_THREADS") == "1");
  BOOST_TEST(value_of(environment, "CUDA_VISIBLE_DEVICES") == "0,2");
  BOOST_TEST(value_of(environment, "MASTER_PORT") == "29500");
  BOOST_TEST(value_of(environment, "TROUPE_ATTEMPT_ID") == "j.0.1");
}

BOOST_AUTO_TEST_CASE(without_a_picked_port_the_spec_sets_master_port) {
  const char* daemon[] = {nullptr};
  jobs::task_launch launch;
  launch.env = {{"MASTER_PORT", "29501"}};
  auto environment = runner::task_environment(launch, daemon, 0);
  BOOST_TEST(value_of(environment, "MASTER_PORT") == "29501");
  BOOST_TEST(value_of(environment, "CUDA_VISIBLE_DEVICES") == "");
}

BOOST_AUTO_TEST_CASE(tasks_get_the_openblas_kernels_of_the_cpu_unless_daemon_or_spec_name_some) {
  const auto& core = openblas_core_type_for_this_cpu();
  const char* plain_daemon[] = {"HOME=/root", nullptr};
  jobs::task_launch launch;
  BOOST_TEST(value_of(runner::task_environment(launch, plain_daemon, 0), "OPENBLAS_CORETYPE") ==
             (core.empty() ? "<unset>" : core));
  const char* daemon_with_core[] = {"OPENBLAS_CORETYPE=ZEN", nullptr};
  BOOST_TEST(value_of(runner::task_environment(launch, daemon_with_core, 0), "OPENBLAS_CORETYPE") ==
             "ZEN");
  launch.env = {{"OPENBLAS_CORETYPE", "PRESCOTT"}};
  BOOST_TEST(value_of(runner::task_environment(launch, daemon_with_core, 0), "OPENBLAS_CORETYPE") ==
             "PRESCOTT");
}

BOOST_AUTO_TEST_CASE(the_openblas_kernels_follow_the_widest_vector_instructions) {
  BOOST_TEST(openblas_core_type_for({true, true}) == "SKYLAKEX");
  BOOST_TEST(openblas_core_type_for({false, true}) == "HASWELL");
  BOOST_TEST(openblas_core_type_for({false, false}) == "");
}

BOOST_AUTO_TEST_CASE(a_program_is_looked_up_in_each_path_directory_in_order) {
  BOOST_TEST(program_candidates("prog", {"PATH=/a::/b/"}) ==
             (strings{"/a/prog", "./prog", "/b//prog"}));
  BOOST_TEST(program_candidates("prog", {}) == (strings{"/bin/prog", "/usr/bin/prog"}));
  BOOST_TEST(program_candidates("./prog", {"PATH=/a"}) == (strings{"./prog"}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::runner::test
