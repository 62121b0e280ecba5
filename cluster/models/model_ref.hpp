// How models and their versions are named (docs/models.md): a model name, a stage, and a
// reference NAME, NAME@VERSION (3 or v3) or NAME@STAGE (staging, production), as the CLI takes
// it and the protocol carries it. Shared by the head, the CLI and the codec; no dependencies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace troupe::models {

// A version's stage. At most one version of a model is in staging and one in production.
enum class stage { none, staging, production, archived };

const char* to_string(stage s);
std::optional<stage> parse_stage(std::string_view text);

// What a version's outputs are, per input row.
enum class output_kind {
  logits,         // one score per class; served as their softmax
  probabilities,  // one probability per class, as the model gives them
  values,         // the predicted values (regression)
};

const char* to_string(output_kind k);
std::optional<output_kind> parse_output_kind(std::string_view text);

// Where a version came from: a train job of this cluster, or a file imported into the registry.
enum class model_source { trained, imported };

const char* to_string(model_source s);
std::optional<model_source> parse_model_source(std::string_view text);

// 1 to 128 characters of letters, digits, '.', '_' and '-', starting with a letter or digit.
inline constexpr const char* name_rule =
    "1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit";
bool is_model_name(std::string_view name);

// What a reference names: every version (neither set), one version, or the version in staging
// or production.
struct model_ref {
  std::string name;
  uint32_t version = 0;  // 0: none named
  stage in_stage = stage::none;
  bool operator==(const model_ref& o) const {
    return name == o.name && version == o.version && in_stage == o.in_stage;
  }
};

// Parses NAME, NAME@VERSION (a positive decimal, optionally after 'v') or NAME@STAGE (staging or
// production); otherwise says why not.
std::variant<model_ref, std::string> parse_ref(std::string_view text);
// NAME, NAME@VERSION or NAME@STAGE as parse_ref reads it.
std::string to_string(const model_ref& ref);

}  // namespace troupe::models
