#include "cluster/jobs/kinds/predict/predict_spec.hpp"

namespace troupe::jobs {

nlohmann::json to_json(const predict_spec& spec) {
  nlohmann::json input{{"dataset", spec.input_dataset}, {"id_column", spec.id_column}};
  if (!spec.features.empty()) input["features"] = spec.features;
  return {{"model", spec.model},
          {"input", std::move(input)},
          {"output", {{"dataset", spec.output_dataset}}},
          {"batch_rows", spec.batch_rows}};
}

predict_spec predict_spec_from_json(const nlohmann::json& json) {
  predict_spec out;
  out.model = json.at("model").get<std::string>();
  const auto& input = json.at("input");
  out.input_dataset = input.at("dataset").get<std::string>();
  out.id_column = input.at("id_column").get<std::string>();
  if (const auto features = input.find("features"); features != input.end())
    out.features = features->get<std::vector<std::string>>();
  out.output_dataset = json.at("output").at("dataset").get<std::string>();
  out.batch_rows = json.at("batch_rows").get<uint32_t>();
  return out;
}

}  // namespace troupe::jobs
