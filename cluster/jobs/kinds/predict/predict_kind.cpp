#include "cluster/jobs/kinds/predict/predict_kind.hpp"

#include "cluster/jobs/job_spec.hpp"
#include "cluster/jobs/kinds/artifact_fields.hpp"
#include "cluster/jobs/kinds/common_launch.hpp"
#include "cluster/jobs/kinds/predict/predict_spec.hpp"
#include "cluster/jobs/spec_reader.hpp"

namespace troupe::jobs {
namespace {

void read_input(const spec_map& spec, predict_spec& out) {
  const auto m = spec.required(spec.map("input"), "input");
  m.allow_only({"dataset", "id_column", "features"});
  out.input_dataset = m.required(dataset_name(m, "dataset"), "dataset");
  if (const auto id = m.text("id_column")) out.id_column = read_column(m.path("id_column"), *id);
  out.features = read_features(m, out.id_column, "id");
}

std::string read_output(const spec_map& spec, const std::string& input) {
  const auto m = spec.required(spec.map("output"), "output");
  m.allow_only({"dataset"});
  auto name = m.required(dataset_name(m, "dataset"), "dataset");
  if (name == input)
    throw spec_error(m.path("dataset"),
                     "must differ from input.dataset: the results would replace the rows scored");
  return name;
}

}  // namespace

std::vector<std::string_view> predict_kind::field_names() const {
  return {"model", "input", "output", "batch_rows"};
}

nlohmann::json predict_kind::parse_fields(const spec_map& spec) const {
  predict_spec out;
  out.model = model_reference(spec, "model");
  read_input(spec, out);
  out.output_dataset = read_output(spec, out.input_dataset);
  out.batch_rows = static_cast<uint32_t>(
      spec.whole("batch_rows", 1, predict_limits::max_batch_rows).value_or(out.batch_rows));
  return to_json(out);
}

void predict_kind::derive_common_fields(const spec_map& spec, job_spec& out) const {
  if (const auto tasks = spec.whole("tasks", 1, predict_limits::max_tasks))
    out.tasks = static_cast<uint32_t>(*tasks);
}

task_launch predict_kind::launch(const job_spec& spec, const task_context& task) const {
  auto out = common_launch(spec, task);
  out.argv = {predict_program};
  out.env.emplace_back(predict_spec_variable, spec.kind_fields.dump());
  out.env.emplace_back("OPENBLAS_NUM_THREADS", "1");
  out.rank_link = true;  // every task resolves, fetches, reports and publishes through its node
  return out;
}

}  // namespace troupe::jobs
