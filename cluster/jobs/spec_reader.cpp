#include "cluster/jobs/spec_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "messages/utf8.hpp"

namespace troupe::jobs {
namespace {

using form = spec_node::form;

bool is_digits(std::string_view s, bool (*digit)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!digit(c)) return false;
  return true;
}

bool is_decimal_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }
bool is_hex_digit(char c) {
  return is_decimal_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string_view without_sign(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return s;
}

// YAML 1.2 core schema; numbers are read in decimal only: [-+]?[0-9]+ for whole numbers.
bool is_decimal_integer(std::string_view s) { return is_digits(without_sign(s), is_decimal_digit); }

bool is_integer(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o') return is_digits(s.substr(2), is_octal_digit);
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x') return is_digits(s.substr(2), is_hex_digit);
  return is_decimal_integer(s);
}

bool is_special_float(std::string_view s) {
  const auto unsigned_part = without_sign(s);
  return unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF" ||
         s == ".nan" || s == ".NaN" || s == ".NAN";
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_decimal_float(std::string_view s) {
  s = without_sign(s);
  size_t i = 0, digits = 0;
  while (i < s.size() && is_decimal_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_decimal_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    auto exponent = without_sign(s.substr(i + 1));
    return is_digits(exponent, is_decimal_digit);
  }
  return i == s.size();
}

bool is_number(std::string_view s) {
  return is_integer(s) || is_decimal_float(s) || is_special_float(s);
}

bool is_bool(std::string_view s) {
  return s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE";
}

bool is_string(const spec_node& node) {
  return node.shape == form::quoted ||
         (node.shape == form::plain && !is_number(node.text) && !is_bool(node.text));
}

// The value as "got ..." shows it: strings quoted, numbers and booleans as written.
std::string got(const spec_node& node) {
  switch (node.shape) {
    case form::null: return "null";
    case form::sequence: return "a list";
    case form::mapping: return "a mapping";
    default: return is_string(node) ? shown(node.text) : msg::printable(node.text);
  }
}

std::string text_of(const spec_node& node, const std::string& path) {
  if (!is_string(node)) throw spec_error(path, "expected a string, got " + got(node));
  return node.text;
}

template <class T>
std::string decimal(T value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

template <class T>
[[noreturn]] void out_of_range(const std::string& path, T min, T max, const spec_node& node) {
  throw spec_error(
      path, "must be between " + decimal(min) + " and " + decimal(max) + ", got " + got(node));
}

// A decimal integer's value, or nullopt when it does not fit in int64.
std::optional<int64_t> to_int64(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

int64_t integer_of(const spec_node& node, const std::string& path, int64_t min, int64_t max) {
  if (node.shape != form::plain || !is_decimal_integer(node.text))
    throw spec_error(path, min >= 0 ? "expected a whole number >= 0, got " + got(node)
                                    : "expected a whole number, got " + got(node));
  const auto value = to_int64(node.text);
  if (!value || *value < min || *value > max) out_of_range(path, min, max, node);
  return *value;
}

double number_of(const spec_node& node, const std::string& path, double min, double max,
                 bool above_min) {
  const std::string_view s = node.text;
  if (node.shape != form::plain || !(is_decimal_float(s) || is_special_float(s)))
    throw spec_error(path, "expected a number, got " + got(node));
  // NaN and a number too large for a double (1e999) are out of every range.
  double value = std::nan("");
  if (is_decimal_float(s)) {
    const auto digits = s[0] == '+' ? s.substr(1) : s;
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
  } else if (s.find_first_of("nN") == std::string_view::npos) {
    value = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
  }
  const bool in_range = (above_min ? value > min : value >= min) && value <= max;
  if (in_range) return value;
  if (above_min)
    throw spec_error(path, "must be greater than " + decimal(min) + " and at most " + decimal(max) +
                               ", got " + got(node));
  out_of_range(path, min, max, node);
}

// The items of the list `node` (absent: nullopt) at `path`, each read by `read(item, its path)`.
template <class Read>
auto list_of(const spec_node* node, const std::string& path, const char* what, Read read)
    -> std::optional<std::vector<decltype(read(spec_node{}, std::string{}))>> {
  if (!node) return std::nullopt;
  if (node->shape != form::sequence)
    throw spec_error(path, std::string("expected a list of ") + what + ", got " + got(*node));
  std::vector<decltype(read(spec_node{}, std::string{}))> out;
  out.reserve(node->items.size());
  for (size_t i = 0; i < node->items.size(); ++i)
    out.push_back(read(node->items[i], item_path(path, i)));
  return out;
}

}  // namespace

bool is_plain_text(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const auto c = msg::next_code_point(text, pos);
    if (!c || *c < 0x20 || (*c >= 0x7f && *c <= 0x9f)) return false;
  }
  return true;
}

spec_map::spec_map(const spec_node& node, std::string path)
    : node_(&node), path_(std::move(path)) {}

void spec_map::allow_only(const std::vector<std::string_view>& known) const {
  for (const auto& [key, value] : node_->entries) {
    bool allowed = false;
    for (auto name : known) allowed = allowed || key == name;
    if (allowed) continue;
    std::string names;
    for (auto name : known) names += (names.empty() ? "" : ", ") + std::string(name);
    throw spec_error(path(key), "unknown field (known: " + names + ")");
  }
}

const spec_node* spec_map::find(std::string_view key) const {
  for (const auto& [name, value] : node_->entries)
    if (name == key) return &value;
  return nullptr;
}

std::string spec_map::path(std::string_view key) const { return child_path(path_, key); }

std::optional<std::string> spec_map::text(std::string_view key) const {
  const auto* node = find(key);
  if (!node) return std::nullopt;
  return text_of(*node, path(key));
}

std::optional<std::string> spec_map::name(std::string_view key) const {
  auto value = text(key);
  if (!value) return std::nullopt;
  const bool valid = !value->empty() && value->size() <= max_name_chars &&
                     std::all_of(value->begin(), value->end(), [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                     });
  if (!valid)
    throw spec_error(path(key), "expected 1 to " + std::to_string(max_name_chars) +
                                    " characters of A-Z a-z 0-9 . _ -, got " + shown(*value));
  return value;
}

std::optional<bool> spec_map::boolean(std::string_view key) const {
  const auto* node = find(key);
  if (!node) return std::nullopt;
  if (node->shape != form::plain || !is_bool(node->text))
    throw spec_error(path(key), "expected true or false, got " + got(*node));
  return node->text[0] == 't' || node->text[0] == 'T';
}

std::optional<uint64_t> spec_map::whole(std::string_view key, uint64_t min, uint64_t max) const {
  const auto value = integer(key, static_cast<int64_t>(min), static_cast<int64_t>(max));
  if (!value) return std::nullopt;
  return static_cast<uint64_t>(*value);
}

std::optional<int64_t> spec_map::integer(std::string_view key, int64_t min, int64_t max) const {
  const auto* node = find(key);
  if (!node) return std::nullopt;
  return integer_of(*node, path(key), min, max);
}

std::optional<double> spec_map::number(std::string_view key, double min, double max,
                                       bool above_min) const {
  const auto* node = find(key);
  if (!node) return std::nullopt;
  return number_of(*node, path(key), min, max, above_min);
}

std::optional<std::vector<std::string>> spec_map::text_list(std::string_view key) const {
  return list_of(find(key), path(key), "strings", text_of);
}

std::optional<std::vector<int64_t>> spec_map::integer_list(std::string_view key, int64_t min,
                                                           int64_t max) const {
  return list_of(find(key), path(key), "whole numbers",
                 [&](const spec_node& item, const std::string& where) {
                   return integer_of(item, where, min, max);
                 });
}

std::optional<std::vector<double>> spec_map::number_list(std::string_view key, double min,
                                                         double max, bool above_min) const {
  return list_of(find(key), path(key), "numbers",
                 [&](const spec_node& item, const std::string& where) {
                   return number_of(item, where, min, max, above_min);
                 });
}

std::optional<std::vector<std::pair<std::string, std::string>>> spec_map::text_map(
    std::string_view key) const {
  const auto* node = find(key);
  if (!node) return std::nullopt;
  if (node->shape != form::mapping)
    throw spec_error(path(key), "expected a mapping of strings, got " + got(*node));
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(node->entries.size());
  for (const auto& [name, value] : node->entries)
    out.emplace_back(name, text_of(value, child_path(path(key), name)));
  return out;
}

std::optional<spec_map> spec_map::map(std::string_view key) const {
  const auto* node = find(key);
  if (!node) return std::nullopt;
  if (node->shape != form::mapping)
    throw spec_error(path(key), "expected a mapping, got " + got(*node));
  return spec_map(*node, path(key));
}

std::optional<std::vector<spec_map>> spec_map::map_list(std::string_view key) const {
  return list_of(find(key), path(key), "mappings",
                 [](const spec_node& item, const std::string& where) {
                   if (item.shape != form::mapping)
                     throw spec_error(where, "expected a mapping, got " + got(item));
                   return spec_map(item, where);
                 });
}

}  // namespace troupe::jobs
