#include "cluster/jobs/kinds/artifact_fields.hpp"

#include <unordered_set>

#include "cluster/jobs/spec_document.hpp"
#include "cluster/jobs/spec_error.hpp"
#include "cluster/models/model_ref.hpp"
#include "messages/safe_text.hpp"

namespace troupe::jobs {

std::optional<std::string> dataset_name(const spec_map& m, std::string_view key) {
  auto value = m.text(key);
  if (value && !msg::is_artifact_name(*value))
    throw spec_error(m.path(key), std::string("expected an artifact name, ") +
                                      msg::artifact_name_rule + ", got " + shown(*value));
  return value;
}

std::string model_reference(const spec_map& m, std::string_view key) {
  auto text = m.required(m.text(key), key);
  auto ref = models::parse_ref(text);
  if (const auto* why = std::get_if<std::string>(&ref))
    throw spec_error(m.path(key), "expected NAME, NAME@VERSION or NAME@STAGE: " + *why);
  return models::to_string(std::get<models::model_ref>(ref));
}

std::string read_column(const std::string& path, std::string name) {
  if (name.empty() || name.size() > column_limits::max_column_bytes || !is_plain_text(name))
    throw spec_error(path, "expected a column name of 1 to " +
                               std::to_string(column_limits::max_column_bytes) +
                               " bytes of text without control characters, got " + shown(name));
  return name;
}

std::vector<std::string> read_features(const spec_map& m, const std::string& other,
                                       std::string_view other_role) {
  const auto given = m.text_list("features");
  if (!given) return {};
  const auto path = m.path("features");
  const auto role = std::string(other_role);
  if (given->empty() || given->size() > column_limits::max_features)
    throw spec_error(path, "expected 1 to " + std::to_string(column_limits::max_features) +
                               " columns (leave features out for every column but the " + role +
                               "), got " + std::to_string(given->size()));
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < given->size(); ++i) {
    const auto where = item_path(path, i);
    auto column = read_column(where, (*given)[i]);
    if (column == other)
      throw spec_error(where, "the " + role + " column " + shown(other) + " cannot be a feature");
    if (!seen.insert(column).second) throw spec_error(where, shown(column) + " is listed twice");
    out.push_back(std::move(column));
  }
  return out;
}

}  // namespace troupe::jobs
