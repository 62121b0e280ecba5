#include "cluster/models/model_ref.hpp"

#include <cctype>

namespace troupe::models {

const char* to_string(stage s) {
  switch (s) {
    case stage::none: return "none";
    case stage::staging: return "staging";
    case stage::production: return "production";
    case stage::archived: return "archived";
  }
  return "none";
}

std::optional<stage> parse_stage(std::string_view text) {
  for (auto s : {stage::none, stage::staging, stage::production, stage::archived})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

const char* to_string(output_kind k) {
  switch (k) {
    case output_kind::logits: return "logits";
    case output_kind::probabilities: return "probabilities";
    case output_kind::values: return "values";
  }
  return "logits";
}

std::optional<output_kind> parse_output_kind(std::string_view text) {
  for (auto k : {output_kind::logits, output_kind::probabilities, output_kind::values})
    if (text == to_string(k)) return k;
  return std::nullopt;
}

const char* to_string(model_source s) {
  return s == model_source::imported ? "imported" : "trained";
}

std::optional<model_source> parse_model_source(std::string_view text) {
  for (auto s : {model_source::trained, model_source::imported})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

bool is_model_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || !std::isalnum(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

std::variant<model_ref, std::string> parse_ref(std::string_view text) {
  const auto at = text.find('@');
  model_ref ref;
  ref.name = std::string(text.substr(0, at));
  if (!is_model_name(ref.name)) return std::string("a model name is ") + name_rule;
  if (at == std::string_view::npos) return ref;
  auto selector = text.substr(at + 1);
  if (selector == "staging" || selector == "production") {
    ref.in_stage = *parse_stage(selector);
    return ref;
  }
  if (!selector.empty() && selector[0] == 'v') selector.remove_prefix(1);
  uint64_t version = 0;
  for (char c : selector) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || version > UINT32_MAX / 10) {
      version = 0;
      break;
    }
    version = version * 10 + static_cast<uint64_t>(c - '0');
  }
  if (version == 0 || version > UINT32_MAX)
    return "after '@' comes a version (3 or v3), staging or production";
  ref.version = static_cast<uint32_t>(version);
  return ref;
}

std::string to_string(const model_ref& ref) {
  if (ref.version) return ref.name + "@" + std::to_string(ref.version);
  if (ref.in_stage != stage::none) return ref.name + "@" + to_string(ref.in_stage);
  return ref.name;
}

}  // namespace troupe::models
