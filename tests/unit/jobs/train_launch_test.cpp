#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>

#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/jobs/kinds/train/train_kind.hpp"
#include "cluster/training/train_spec.hpp"
#include "spec_checks.hpp"
#include "train_specs.hpp"

using namespace troupe;
using namespace troupe::jobs;
using namespace troupe::jobs::test;
using training::train_spec;

namespace {

task_launch launch_of(const std::string& text, const task_context& task) {
  const auto spec = parse_job_spec(text);
  return find_kind(spec.kind)->launch(spec, task);
}

std::multimap<std::string, std::string> env_of(const task_launch& launch) {
  return {launch.env.begin(), launch.env.end()};
}

// What train_spec_from_json refuses `json` with; "(accepted)" when it does not.
std::string from_json_error(const nlohmann::json& json) {
  try {
    training::train_spec_from_json(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(train_launch)

BOOST_AUTO_TEST_CASE(a_rank_runs_troupe_rank_with_its_spec_and_one_blas_thread) {
  const auto text = train_text(with(dataset_data, {{"world_size", "2"}}));
  const auto l = launch_of(text, gang_task(1, 29500));
  BOOST_TEST(l.argv == (std::vector<std::string>{"troupe-rank"}));
  const auto env = env_of(l);
  BOOST_TEST(env.count("TROUPE_TRAIN_SPEC") == 1u);
  BOOST_TEST((training::train_spec_from_json(
                  nlohmann::json::parse(env.find("TROUPE_TRAIN_SPEC")->second)) == parsed(text)));
  BOOST_TEST(env.find("OPENBLAS_NUM_THREADS")->second == "1");
  BOOST_TEST(l.workdir == "");
}

BOOST_AUTO_TEST_CASE(a_rank_gets_the_torchrun_environment_and_task_0_picks_the_port) {
  const auto text = train_text({{"world_size", "2"}});
  const auto rank0 = launch_of(text, gang_task(0, 0));
  BOOST_TEST(rank0.pick_master_port);
  BOOST_TEST(env_of(rank0).count("MASTER_PORT") == 0u);
  const auto rank1 = env_of(launch_of(text, gang_task(1, 29500)));
  BOOST_TEST(rank1.find("RANK")->second == "1");
  BOOST_TEST(rank1.find("WORLD_SIZE")->second == "2");
  BOOST_TEST(rank1.find("LOCAL_RANK")->second == "0");
  BOOST_TEST(rank1.find("MASTER_ADDR")->second == "10.0.0.1");
  BOOST_TEST(rank1.find("MASTER_PORT")->second == "29500");
  BOOST_TEST(rank1.find("TROUPE_JOB_ID")->second == "j00000000000000aa");
  BOOST_TEST(rank1.find("TROUPE_ATTEMPT_ID")->second == "j00000000000000aa.1.1");
}

BOOST_AUTO_TEST_CASE(a_rank_of_a_round_on_fewer_ranks_is_told_the_rounds_world_size) {
  const auto text = train_text({{"world_size", "3"}, {"elastic", "{min_world_size: 1}"}});
  const auto env = env_of(launch_of(text, gang_task(1, 29500)));  // a round of 2 tasks
  BOOST_TEST(env.find("WORLD_SIZE")->second == "2");
  BOOST_TEST(env.find("TROUPE_TASK_COUNT")->second == "2");
  const auto spec =
      training::train_spec_from_json(nlohmann::json::parse(env.find("TROUPE_TRAIN_SPEC")->second));
  BOOST_TEST(spec.world_size == 2);
  auto rest = parsed(text);  // the rest of the spec as given
  rest.world_size = 2;
  BOOST_TEST((spec == rest));
}

BOOST_AUTO_TEST_CASE(a_cuda_rank_is_given_its_gpu_and_the_specs_limits) {
  auto task = gang_task(0, 0);
  task.gpus = {3};
  const auto l = launch_of(
      train_text(
          {{"device", "cuda"}, {"resources", "{cpus: 2, memory_mb: 4096}"}, {"timeout_s", "60"}}),
      task);
  BOOST_TEST(l.gpus == (std::vector<uint32_t>{3}));  // the runner exports CUDA_VISIBLE_DEVICES=3
  BOOST_TEST(l.cpus == 2.0);
  BOOST_TEST(l.memory_limit_mb == 4096u);
  BOOST_TEST(l.timeout_ms == 60000u);
}

// The largest spec the kind accepts reaches an exec'd program whole: Linux refuses an
// environment string longer than MAX_ARG_STRLEN (128 KiB) with E2BIG.
BOOST_AUTO_TEST_CASE(the_largest_train_spec_accepted_reaches_a_started_process_whole) {
  // Each further column adds 9 bytes of JSON: "c00042",
  const auto one = parse_job_spec(spec_with_features(1)).kind_fields.dump().size();
  const size_t count = (max_train_spec_bytes - one) / 9 + 1;
  BOOST_TEST(refused(spec_with_features(count)).field == "(accepted)");
  BOOST_TEST(refused(spec_with_features(count + 1)).field == "data.features");
  const auto l = launch_of(spec_with_features(count), gang_task(0, 0));
  const auto value = env_of(l).find("TROUPE_TRAIN_SPEC")->second;
  BOOST_TEST_MESSAGE(count << " features: TROUPE_TRAIN_SPEC of " << value.size() << " bytes");
  BOOST_TEST(value.size() > max_train_spec_bytes - 16);
  BOOST_TEST_REQUIRE(::setenv("TROUPE_TRAIN_SPEC", value.c_str(), 1) == 0);
  FILE* child = ::popen("printf %s \"$TROUPE_TRAIN_SPEC\" | wc -c", "r");
  BOOST_TEST_REQUIRE(child);
  char line[64] = {};
  const bool read = std::fgets(line, sizeof line, child) != nullptr;
  const int status = ::pclose(child);
  ::unsetenv("TROUPE_TRAIN_SPEC");
  BOOST_TEST_REQUIRE(read);
  BOOST_TEST(status == 0);
  BOOST_TEST(std::stoul(line) == value.size());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(train_spec_json)

BOOST_AUTO_TEST_CASE(a_spec_with_every_field_set_round_trips_exactly) {
  for (const auto& spec : {every_field_mlp(), every_field_torchscript()}) {
    const auto back = training::train_spec_from_json(training::to_json(spec));
    BOOST_TEST((back == spec));
    BOOST_TEST(back.seed == spec.seed);
  }
}

BOOST_AUTO_TEST_CASE(the_json_is_a_train_spec_that_parses_back_to_itself) {
  for (const auto& spec : {every_field_mlp(), every_field_torchscript()}) {
    auto document = training::to_json(spec);
    document["name"] = "j";
    document["kind"] = "train";
    BOOST_TEST((parsed(document.dump()) == spec));
  }
}

BOOST_AUTO_TEST_CASE(a_value_of_the_wrong_type_is_refused_naming_its_field) {
  auto json = training::to_json(every_field_mlp());
  json["optimizer"]["lr"] = "fast";
  BOOST_TEST(from_json_error(json) == "optimizer.lr: expected a number");
  json = training::to_json(every_field_mlp());
  json["model"]["layers"][2] = 1.5;
  BOOST_TEST(from_json_error(json) == "model.layers[2]: expected a whole number");
  json = training::to_json(every_field_mlp());
  json["seed"] = -1;
  BOOST_TEST(from_json_error(json) == "seed: expected a whole number >= 0");
}

BOOST_AUTO_TEST_CASE(an_unknown_device_is_refused_naming_its_field) {
  auto json = training::to_json(every_field_mlp());
  json["device"] = "tpu";
  BOOST_TEST(from_json_error(json) == "device: unknown value \"tpu\"");
}

BOOST_AUTO_TEST_CASE(json_that_is_not_an_object_is_refused) {
  BOOST_TEST(from_json_error(nlohmann::json::array()) == "train spec: expected an object");
  BOOST_TEST(from_json_error({{"data", 5}}) == "data: expected an object");
}

BOOST_AUTO_TEST_SUITE_END()
