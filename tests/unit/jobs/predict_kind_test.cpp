// The predict kind's fields: each is parsed into its member, each bad value is refused with the
// field named, and a task is started as troupe-predict with its spec and a rank link.
#include <boost/test/unit_test.hpp>

#include "cluster/jobs/kinds/predict/predict_kind.hpp"
#include "cluster/jobs/kinds/predict/predict_spec.hpp"
#include "spec_checks.hpp"

using namespace troupe;
using namespace troupe::jobs;
using namespace troupe::jobs::test;

namespace {

std::string predict_text(const std::string& more = "") {
  return "name: rescore\nkind: predict\nmodel: txn-category@production\n"
         "input: {dataset: txns}\noutput: {dataset: txn-scores}\n" +
         more;
}

predict_spec predicted(const std::string& text) {
  return predict_spec_from_json(parse_job_spec(text).kind_fields);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(predict_fields)

BOOST_AUTO_TEST_CASE(a_minimal_predict_spec_gets_the_documented_defaults) {
  const auto spec = parse_job_spec(predict_text());
  BOOST_TEST(spec.tasks == 1u);
  const auto p = predict_spec_from_json(spec.kind_fields);
  BOOST_TEST(p.model == "txn-category@production");
  BOOST_TEST(p.input_dataset == "txns");
  BOOST_TEST(p.id_column == "id");
  BOOST_TEST(p.features.empty());
  BOOST_TEST(p.output_dataset == "txn-scores");
  BOOST_TEST(p.batch_rows == 4096u);
}

BOOST_AUTO_TEST_CASE(every_field_lands_in_its_member) {
  const auto spec = parse_job_spec(
      "name: rescore\nkind: predict\nmodel: txn-category@v3\ntasks: 4\nbatch_rows: 512\n"
      "input: {dataset: txns, id_column: txn_id, features: [amount, hour]}\n"
      "output: {dataset: txn-scores}\nresources: {cpus: 1}\n");
  BOOST_TEST(spec.tasks == 4u);
  predict_spec expected;
  expected.model = "txn-category@3";
  expected.input_dataset = "txns";
  expected.id_column = "txn_id";
  expected.features = {"amount", "hour"};
  expected.output_dataset = "txn-scores";
  expected.batch_rows = 512;
  BOOST_TEST((predict_spec_from_json(spec.kind_fields) == expected));
}

BOOST_AUTO_TEST_CASE(the_model_reference_is_kept_in_its_canonical_form) {
  auto text = predict_text();
  BOOST_TEST(predicted(text.replace(text.find("@production"), 11, "@v4")).model ==
             "txn-category@4");
}

BOOST_AUTO_TEST_CASE(each_bad_field_is_refused_with_the_field_named) {
  const std::vector<std::pair<std::string, refusal>> cases{
      {"name: p\nkind: predict\ninput: {dataset: a}\noutput: {dataset: b}\n",
       {"model", "model: required field missing"}},
      {"name: p\nkind: predict\nmodel: 'bad name!'\ninput: {dataset: a}\noutput: {dataset: b}\n",
       {"model", "model: expected NAME, NAME@VERSION or NAME@STAGE: "}},
      {"name: p\nkind: predict\nmodel: m\noutput: {dataset: b}\n",
       {"input", "input: required field missing"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {id_column: id}\noutput: {dataset: b}\n",
       {"input.dataset", "input.dataset: required field missing"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: 'a b'}\noutput: {dataset: b}\n",
       {"input.dataset", "input.dataset: expected an artifact name"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a, table: t}\noutput: {dataset: b}\n",
       {"input.table", ""}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a, id_column: ''}\n"
       "output: {dataset: b}\n",
       {"input.id_column", "input.id_column: expected a column name"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a, features: []}\n"
       "output: {dataset: b}\n",
       {"input.features",
        "input.features: expected 1 to 65536 columns (leave features out for "
        "every column but the id), got 0"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a, features: [x, id]}\n"
       "output: {dataset: b}\n",
       {"input.features[1]", "input.features[1]: the id column \"id\" cannot be a feature"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a, features: [x, x]}\n"
       "output: {dataset: b}\n",
       {"input.features[1]", "input.features[1]: \"x\" is listed twice"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a}\n",
       {"output", "output: required field missing"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a}\noutput: {dataset: a}\n",
       {"output.dataset", "output.dataset: must differ from input.dataset"}},
      {"name: p\nkind: predict\nmodel: m\ninput: {dataset: a}\noutput: {dataset: b, table: t}\n",
       {"output.table", ""}},
      {predict_text("tasks: 0\n"), {"tasks", "tasks: must be between 1 and 1024, got 0"}},
      {predict_text("tasks: 257\n"), {"tasks", "tasks: must be between 1 and 256, got 257"}},
      {predict_text("batch_rows: 0\n"),
       {"batch_rows", "batch_rows: must be between 1 and 65536, got 0"}},
      {predict_text("batch_rows: 65537\n"),
       {"batch_rows", "batch_rows: must be between 1 and 65536, got 65537"}},
  };
  for (const auto& [text, expected] : cases) {
    const auto got = refused(text);
    BOOST_TEST(got.field == expected.field, text);
    // An empty expected message checks only the field; else the message starts with it.
    BOOST_TEST(got.message.rfind(expected.message, 0) == 0u, text << " -> " << got.message);
  }
}

BOOST_AUTO_TEST_CASE(a_predict_spec_round_trips_through_its_stored_form) {
  const auto spec = parse_job_spec(predict_text("tasks: 3\nbatch_rows: 100\n"));
  BOOST_TEST((parse_job_spec(to_json(spec)) == spec));
  const auto listed = parse_job_spec(
      "name: p\nkind: predict\nmodel: m\ninput: {dataset: a, features: [x, y]}\n"
      "output: {dataset: b}\n");
  BOOST_TEST((parse_job_spec(to_json(listed)) == listed));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(predict_launch)

BOOST_AUTO_TEST_CASE(a_task_runs_troupe_predict_with_its_spec_and_a_rank_link) {
  const auto spec = parse_job_spec(predict_text("tasks: 2\nresources: {cpus: 2}\n"));
  task_context task = gang_task(1, 0);
  const auto launch = find_kind("predict")->launch(spec, task);
  BOOST_TEST(launch.argv == std::vector<std::string>{"troupe-predict"});
  BOOST_TEST(launch.rank_link);
  BOOST_TEST(launch.cpus == 2.0);
  BOOST_TEST(variable_of(launch, "OPENBLAS_NUM_THREADS") == "1");
  BOOST_TEST(variable_of(launch, "TROUPE_TASK_INDEX") == "1");
  BOOST_TEST(variable_of(launch, "TROUPE_TASK_COUNT") == "2");
  BOOST_TEST((predict_spec_from_json(nlohmann::json::parse(variable_of(
                  launch, predict_spec_variable))) == predict_spec_from_json(spec.kind_fields)));
}

BOOST_AUTO_TEST_CASE(a_single_task_has_a_rank_link_too) {
  task_context task = gang_task(0, 0);
  task.task_count = 1;
  BOOST_TEST(find_kind("predict")->launch(parse_job_spec(predict_text()), task).rank_link);
}

BOOST_AUTO_TEST_SUITE_END()
