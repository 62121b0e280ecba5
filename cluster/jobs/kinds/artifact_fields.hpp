// Spec fields that name what the artifact store and the model registry hold, read alike by every
// kind: a dataset and its columns (train's `data`, predict's `input`) and a model reference
// (serve's and predict's `model`). A refusal is a spec_error naming the field's full path.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/jobs/spec_reader.hpp"

namespace troupe::jobs {

namespace column_limits {
inline constexpr size_t max_column_bytes = 256;
inline constexpr size_t max_features = 1 << 16;
}  // namespace column_limits

// The dataset named at `key`, when given, by the artifact store's naming rule.
std::optional<std::string> dataset_name(const spec_map& m, std::string_view key);

// The model reference at `key` (required): NAME, NAME@VERSION or NAME@STAGE, canonical.
std::string model_reference(const spec_map& m, std::string_view key);

// A column name given at `path`: 1 to max_column_bytes bytes of plain text.
std::string read_column(const std::string& path, std::string name);

// The `features` list of `m`, when given: distinct columns, none of them `other` (the column
// named by `other_role`, e.g. the label); empty when left out (every column but `other`).
std::vector<std::string> read_features(const spec_map& m, const std::string& other,
                                       std::string_view other_role);

}  // namespace troupe::jobs
