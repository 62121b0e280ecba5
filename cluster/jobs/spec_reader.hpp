// Reads one mapping of a job spec field by field, for the common fields (job_spec.cpp) and each
// kind's own fields alike. Every getter returns nullopt for an absent field, checks the type
// and range of a present one, and throws spec_error naming the field's full path:
//   resources.gpus: expected a whole number >= 0, got "two"
//   tasks: must be between 1 and 1024, got 0
// A plain YAML scalar is typed as YAML 1.2's core schema types it: `5` and `true` are not
// strings (quote them), `"5"` is not a number. Explicit null (`field:` or `~`) is a wrong type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/jobs/spec_document.hpp"
#include "cluster/jobs/spec_error.hpp"

namespace troupe::jobs {

// Names of jobs, tenants, datasets and models: [A-Za-z0-9._-]{1,max_name_chars}.
inline constexpr size_t max_name_chars = 128;

class spec_map {
 public:
  // `node` must be a mapping and outlive this reader; `path` is its own path ("" for the root).
  spec_map(const spec_node& node, std::string path);

  // Refuses the first field whose name is not in `known`.
  void allow_only(const std::vector<std::string_view>& known) const;

  std::string path(std::string_view key) const;

  std::optional<std::string> text(std::string_view key) const;
  std::optional<std::string> name(std::string_view key) const;  // see max_name_chars
  std::optional<bool> boolean(std::string_view key) const;
  // Whole numbers in [min, max]; `max` at most INT64_MAX.
  std::optional<uint64_t> whole(std::string_view key, uint64_t min, uint64_t max) const;
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) const;
  // Finite numbers in [min, max], or (min, max] when `above_min`.
  std::optional<double> number(std::string_view key, double min, double max,
                               bool above_min = false) const;
  std::optional<std::vector<std::string>> text_list(std::string_view key) const;
  // Lists of the values integer() and number() take, each item checked as they check one.
  std::optional<std::vector<int64_t>> integer_list(std::string_view key, int64_t min,
                                                   int64_t max) const;
  std::optional<std::vector<double>> number_list(std::string_view key, double min, double max,
                                                 bool above_min = false) const;
  // A mapping of text to text, in document order.
  std::optional<std::vector<std::pair<std::string, std::string>>> text_map(
      std::string_view key) const;
  std::optional<spec_map> map(std::string_view key) const;
  // A list of mappings (a serve job's traffic split), each read by its own spec_map.
  std::optional<std::vector<spec_map>> map_list(std::string_view key) const;

  // The value, or "<key>: required field missing".
  template <class T>
  T required(std::optional<T> value, std::string_view key) const {
    if (!value) throw spec_error(path(key), "required field missing");
    return std::move(*value);
  }

 private:
  const spec_node* find(std::string_view key) const;

  const spec_node* node_;
  std::string path_;
};

// UTF-8 without control characters (C0, DEL, C1): label and env text.
bool is_plain_text(std::string_view text);

}  // namespace troupe::jobs
