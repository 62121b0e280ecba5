// What a `predict` job asks for, as plain values: the job spec's kind fields once validated
// (predict_kind.hpp), and what each troupe-predict task reads from TROUPE_PREDICT_SPEC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::jobs {

struct predict_spec {
  std::string model;  // NAME, NAME@VERSION or NAME@STAGE, canonical (models::to_string)
  std::string input_dataset;
  std::string id_column = "id";
  std::vector<std::string> features;  // the model's inputs in order; empty: every column but id
  std::string output_dataset;
  uint32_t batch_rows = 4096;
  bool operator==(const predict_spec& o) const {
    return model == o.model && input_dataset == o.input_dataset && id_column == o.id_column &&
           features == o.features && output_dataset == o.output_dataset &&
           batch_rows == o.batch_rows;
  }
};

// The spec's own fields as a spec document reads them: parse_fields accepts what to_json gives.
nlohmann::json to_json(const predict_spec& spec);
// Throws nlohmann::json::exception on a document to_json did not make.
predict_spec predict_spec_from_json(const nlohmann::json& json);

}  // namespace troupe::jobs
