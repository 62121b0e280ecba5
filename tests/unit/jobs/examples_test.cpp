#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/jobs/job_spec.hpp"

using namespace troupe::jobs;

namespace {

std::filesystem::path examples_dir() {
  const char* source = std::getenv("TROUPE_SOURCE_DIR");
  BOOST_TEST_REQUIRE(source, "TROUPE_SOURCE_DIR must name the source tree (CTest sets it)");
  return std::filesystem::path(source) / "docs" / "examples";
}

job_spec parse_example(const std::string& name) {
  std::ifstream in(examples_dir() / name);
  BOOST_TEST_REQUIRE(in.good(), "cannot read docs/examples/" << name);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_job_spec(text.str());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(example_specs)

BOOST_AUTO_TEST_CASE(every_example_spec_parses_and_round_trips) {
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    BOOST_TEST_CONTEXT(entry.path().filename()) {
      const auto spec = parse_example(entry.path().filename());
      BOOST_TEST((parse_job_spec(to_json(spec)) == spec));
    }
  }
}

BOOST_AUTO_TEST_CASE(hello_runs_one_task_once) {
  const auto spec = parse_example("hello.yaml");
  BOOST_TEST(spec.tasks == 1u);
  BOOST_TEST(spec.retries.max == 0u);
}

BOOST_AUTO_TEST_CASE(retry_may_be_retried) {
  BOOST_TEST(parse_example("retry.yaml").retries.max >= 1u);
}

BOOST_AUTO_TEST_CASE(gang_ddp_runs_the_allreduce_script_in_2_tasks) {
  const auto spec = parse_example("gang-ddp.yaml");
  BOOST_TEST(spec.tasks == 2u);
  BOOST_TEST(spec.kind_fields["argv"] ==
             nlohmann::json::parse(R"(["/usr/bin/python3", "allreduce.py"])"));
  BOOST_TEST(std::filesystem::exists(examples_dir() / "allreduce.py"));
}

BOOST_AUTO_TEST_SUITE_END()
