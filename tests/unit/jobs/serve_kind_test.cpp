// The serve kind's fields: each is parsed into its member, each bad value is refused with the
// field named, and a replica's task is started as troupe-replica with its spec.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "cluster/inference/serve_spec.hpp"
#include "cluster/jobs/kinds/serve/serve_kind.hpp"
#include "spec_checks.hpp"

using namespace troupe;
using namespace troupe::jobs;
using namespace troupe::jobs::test;
using inference::serve_spec;

namespace {

std::string serve_text(const std::string& more = "") {
  return "name: txn-category\nkind: serve\nmodel: txn-category@production\n" + more;
}

serve_spec served(const std::string& text) {
  return inference::serve_spec_from_json(parse_job_spec(text).kind_fields);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(serve_fields)

BOOST_AUTO_TEST_CASE(a_minimal_serve_spec_gets_the_documented_defaults) {
  const auto spec = parse_job_spec(serve_text());
  BOOST_TEST(spec.tasks == 1u);
  BOOST_TEST(spec.resources.gpus == 0u);
  BOOST_TEST(spec.retries.max == spec_limits::max_retries);
  const auto s = inference::serve_spec_from_json(spec.kind_fields);
  BOOST_TEST(s.model == "txn-category@production");
  BOOST_TEST(s.replicas == 1u);
  BOOST_TEST((s.device == inference::serve_device::cpu));
  BOOST_TEST(s.batching.max_batch == 64u);
  BOOST_TEST(s.batching.max_delay_ms == 2u);
  BOOST_TEST(s.traffic.empty());
  BOOST_TEST(s.auth.tokens_required);
  BOOST_TEST(s.auth.rate_limit_per_s == 0.0);
  BOOST_TEST(s.cache.entries == 0u);
}

BOOST_AUTO_TEST_CASE(every_field_of_the_issues_example_lands_in_its_member) {
  const auto spec = parse_job_spec(
      "name: txn-category\nkind: serve\nmodel: txn-category\nreplicas: 2\n"
      "resources: {cpus: 1}\ndevice: cpu\nbatching: {max_batch: 64, max_delay_ms: 2}\n"
      "traffic: [{version: 3, weight: 90}, {version: 4, weight: 10}]\n"
      "auth: {tokens: required, rate_limit_per_s: 500, burst: 1000}\n"
      "cache: {entries: 100000, ttl_s: 60}\n");
  BOOST_TEST(spec.tasks == 2u);
  serve_spec expected;
  expected.model = "txn-category";
  expected.replicas = 2;
  expected.traffic = {{3, 90}, {4, 10}};
  expected.auth = {true, 500, 1000};
  expected.cache = {100000, 60};
  BOOST_TEST((inference::serve_spec_from_json(spec.kind_fields) == expected));
}

BOOST_AUTO_TEST_CASE(a_cuda_replica_gets_one_gpu) {
  const auto spec = parse_job_spec(serve_text("device: cuda\nreplicas: 3\n"));
  BOOST_TEST(spec.resources.gpus == 1u);
  BOOST_TEST(spec.tasks == 3u);
}

BOOST_AUTO_TEST_CASE(the_model_reference_is_kept_in_its_canonical_form) {
  BOOST_TEST(served(serve_text().replace(serve_text().find("@production"), 11, "@v4")).model ==
             "txn-category@4");
}

BOOST_AUTO_TEST_CASE(a_burst_defaults_to_one_second_of_the_rate) {
  BOOST_TEST(served(serve_text("auth: {rate_limit_per_s: 2.5}\n")).auth.burst == 3u);
}

BOOST_AUTO_TEST_CASE(given_retries_are_kept) {
  BOOST_TEST(parse_job_spec(serve_text("retries: {max: 2}\n")).retries.max == 2u);
}

BOOST_AUTO_TEST_CASE(each_bad_field_is_refused_with_the_field_named) {
  const std::vector<std::pair<std::string, refusal>> cases{
      {"name: s\nkind: serve\n", {"model", "model: required field missing"}},
      {"name: s\nkind: serve\nmodel: 'bad name!'\n",
       {"model", "model: expected NAME, NAME@VERSION or NAME@STAGE: "}},
      {serve_text("replicas: 0\n"), {"replicas", "replicas: must be between 1 and 1024, got 0"}},
      {serve_text("replicas: 2\ntasks: 3\n"),
       {"tasks",
        "tasks: a serve job runs one task per replica: leave tasks out or make it replicas (2), "
        "got 3"}},
      {serve_text("device: tpu\n"), {"device", "device: expected one of cpu, cuda, got \"tpu\""}},
      {serve_text("device: cuda\nresources: {gpus: 2}\n"),
       {"resources.gpus",
        "resources.gpus: a cuda replica serves on one GPU: expected 1 (or leave gpus out), got "
        "2"}},
      {serve_text("resources: {gpus: 1}\n"),
       {"resources.gpus",
        "resources.gpus: a cpu replica uses no GPU: expected 0 (or leave gpus out), got 1"}},
      {serve_text("batching: {max_batch: 0}\n"),
       {"batching.max_batch", "batching.max_batch: must be between 1 and 4096, got 0"}},
      {serve_text("batching: {max_batch: 4097}\n"),
       {"batching.max_batch", "batching.max_batch: must be between 1 and 4096, got 4097"}},
      {serve_text("batching: {max_delay_ms: 1001}\n"),
       {"batching.max_delay_ms", "batching.max_delay_ms: must be between 0 and 1000, got 1001"}},
      {serve_text("batching: {max_rows: 3}\n"), {"batching.max_rows", ""}},
      {serve_text("traffic: [{version: 3, weight: 90}]\n"),
       {"traffic",
        "traffic: a traffic split names its versions: give model as NAME, not "
        "\"txn-category@production\""}},
      {"name: s\nkind: serve\nmodel: m\ntraffic: []\n",
       {"traffic", "traffic: expected 1 to 16 versions, got 0"}},
      {"name: s\nkind: serve\nmodel: m\ntraffic: [3]\n", {"traffic[0]", ""}},
      {"name: s\nkind: serve\nmodel: m\ntraffic: [{version: 3}]\n",
       {"traffic[0].weight", "traffic[0].weight: required field missing"}},
      {"name: s\nkind: serve\nmodel: m\ntraffic: [{version: 0, weight: 1}]\n",
       {"traffic[0].version", ""}},
      {"name: s\nkind: serve\nmodel: m\ntraffic: [{version: 3, weight: 1}, {version: 3, "
       "weight: 2}]\n",
       {"traffic[1].version", "traffic[1].version: version 3 is listed twice"}},
      {"name: s\nkind: serve\nmodel: m\ntraffic: [{version: 3, weight: 0}]\n",
       {"traffic", "traffic: at least one weight must be above 0"}},
      {"name: s\nkind: serve\nmodel: m\ntraffic: [{version: 3, weight: 1, sticky: true}]\n",
       {"traffic[0].sticky", ""}},
      {serve_text("auth: {tokens: maybe}\n"),
       {"auth.tokens", "auth.tokens: expected one of required, optional, got \"maybe\""}},
      {serve_text("auth: {rate_limit_per_s: 0}\n"), {"auth.rate_limit_per_s", ""}},
      {serve_text("auth: {burst: 10}\n"),
       {"auth.burst", "auth.burst: a burst needs rate_limit_per_s"}},
      {serve_text("cache: {ttl_s: 5}\n"),
       {"cache.entries", "cache.entries: required field missing"}},
      {serve_text("cache: {entries: 10, ttl_s: 0}\n"), {"cache.ttl_s", ""}},
  };
  for (const auto& [text, expected] : cases) {
    const auto got = refused(text);
    BOOST_TEST(got.field == expected.field, text);
    // An empty expected message checks only the field; else the message starts with it.
    BOOST_TEST(got.message.rfind(expected.message, 0) == 0u, text << " -> " << got.message);
  }
}

BOOST_AUTO_TEST_CASE(a_serve_spec_round_trips_through_its_stored_form) {
  const auto spec =
      parse_job_spec(serve_text("replicas: 2\nauth: {tokens: required, rate_limit_per_s: 500}\n"
                                "cache: {entries: 10}\nbatching: {max_delay_ms: 0}\n"));
  BOOST_TEST((parse_job_spec(to_json(spec)) == spec));
  const auto split = parse_job_spec(
      "name: s\nkind: serve\nmodel: m\ntraffic: [{version: 3, weight: 90}, {version: 4, "
      "weight: 10}]\n");
  BOOST_TEST((parse_job_spec(to_json(split)) == split));
  const auto open = parse_job_spec(serve_text("auth: {tokens: optional}\n"));
  BOOST_TEST(!served(to_json(open)).auth.tokens_required);
  BOOST_TEST((parse_job_spec(to_json(open)) == open));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(serve_launch)

BOOST_AUTO_TEST_CASE(a_replica_runs_troupe_replica_with_its_spec_and_a_rank_link) {
  const auto spec = parse_job_spec(serve_text("replicas: 2\nresources: {cpus: 1.5}\n"));
  const auto launch = find_kind("serve")->launch(spec, gang_task(1, 0));
  BOOST_TEST(launch.argv == std::vector<std::string>{"troupe-replica"});
  BOOST_TEST(launch.rank_link);
  BOOST_TEST(launch.cpus == 1.5);
  BOOST_TEST(variable_of(launch, "OPENBLAS_NUM_THREADS") == "1");
  BOOST_TEST(variable_of(launch, "TROUPE_ATTEMPT_ID") == gang_task(1, 0).attempt_id);
  BOOST_TEST((inference::serve_spec_from_json(
                  nlohmann::json::parse(variable_of(launch, serve_spec_variable))) ==
              inference::serve_spec_from_json(spec.kind_fields)));
}

BOOST_AUTO_TEST_CASE(a_single_replica_has_a_rank_link_too) {
  task_context task = gang_task(0, 0);
  task.task_count = 1;
  BOOST_TEST(find_kind("serve")->launch(parse_job_spec(serve_text()), task).rank_link);
}

BOOST_AUTO_TEST_SUITE_END()
