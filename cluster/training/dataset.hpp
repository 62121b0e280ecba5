// The tables a trainer learns from, as plain floats (no torch here): read from a CSV file with a
// header, or generated (`synthetic`), split into training and validation rows, with the
// standardisation statistics of the training rows.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cluster/training/train_spec.hpp"
#include "messages/error.hpp"

namespace troupe::training {

struct dataset {
  std::vector<std::string> feature_names;
  int64_t rows = 0;
  std::vector<float> features;  // row-major: rows × feature_names.size()
  std::vector<float> labels;    // the class index (classification) or the target (regression)

  int64_t columns() const { return static_cast<int64_t>(feature_names.size()); }
};

// Per feature, from the training rows; a constant feature gets std 1.
struct standardization {
  std::vector<float> mean;
  std::vector<float> std;
};

struct training_data {
  dataset train;
  dataset validation;                // no rows: no validation
  std::vector<std::string> classes;  // classification: the label value of each class index
  standardization stats;
  std::string fingerprint;  // sha256 hex of the dataset file(s), or of the synthetic parameters
};

// Where the rank process put the job's datasets (it fetches them from the artifact store).
struct data_files {
  std::string dataset;     // data.dataset
  std::string validation;  // data.validation_dataset, if any
};

// Reads or generates the data of `spec.data`, splits off the validation rows (chosen from
// `spec.seed`, the same on every rank) and computes the standardisation. A missing or
// non-numeric value, an unknown column or an unknown class is an invalid_request naming the
// file, row (1 = the first line after the header) and column.
std::variant<training_data, msg::error> load_training_data(const train_spec& spec,
                                                           const data_files& files);

// Classification data that a model can learn but not perfectly: each class a centre drawn
// around the origin (N(0, 9/features) per feature, so centres lie about 4.2 noise deviations
// apart whatever the width), each row its class's centre plus N(0, 1) noise, classes uniform.
// With classes = 0, regression: target = x·w + N(0, 0.1²), w ~ N(0, 1/features).
dataset synthesize(const synthetic_data& spec);

}  // namespace troupe::training
