#include "cluster/training/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>

#include "cluster/artifacts/digest.hpp"
#include "cluster/host/atomic_file.hpp"
#include "cluster/jobs/spec_error.hpp"

namespace troupe::training {
namespace {

using jobs::shown;

msg::error invalid(std::string message) {
  return {msg::error_code::invalid_request, std::move(message)};
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// One line's fields: comma-separated, a field in double quotes may hold commas and "" for ".
std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        fields.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (auto& field : fields) field = std::string(trimmed(field));
  return fields;
}

std::optional<float> number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const float value = std::strtof(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// The raw table of one CSV file: the label column kept as text until the classes are known.
struct csv_table {
  dataset data;
  std::vector<std::string> label_text;
  std::vector<int64_t> label_rows;  // each label's row number, for messages
};

std::variant<csv_table, msg::error> parse_csv(const std::string& content, const std::string& name,
                                              const data_spec& spec) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < content.size();) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty() || trimmed(lines[0]).empty()) return invalid(name + ": no header line");
  const auto header = split_fields(lines[0]);
  std::unordered_map<std::string, size_t> column_of;
  for (size_t c = 0; c < header.size(); ++c) {
    if (!column_of.emplace(header[c], c).second)
      return invalid(name + ": column " + shown(header[c]) + " appears twice in the header");
  }
  auto label = column_of.find(spec.label);
  if (label == column_of.end())
    return invalid("data.label: " + name + " has no column " + shown(spec.label));
  std::vector<size_t> feature_columns;
  csv_table table;
  if (spec.features.empty()) {
    for (size_t c = 0; c < header.size(); ++c) {
      if (c != label->second) feature_columns.push_back(c);
    }
  } else {
    for (const auto& feature : spec.features) {
      auto found = column_of.find(feature);
      if (found == column_of.end())
        return invalid("data.features: " + name + " has no column " + shown(feature));
      if (found->second == label->second)
        return invalid("data.features: " + shown(feature) + " is the label column");
      feature_columns.push_back(found->second);
    }
  }
  if (feature_columns.empty()) return invalid(name + ": no feature columns besides the label");
  for (size_t c : feature_columns) table.data.feature_names.push_back(header[c]);

  for (size_t l = 1; l < lines.size(); ++l) {
    const auto row = static_cast<int64_t>(l);
    if (trimmed(lines[l]).empty()) {
      if (l + 1 == lines.size()) break;  // the file's last newline
      return invalid(name + ": row " + std::to_string(row) + " is empty");
    }
    const auto fields = split_fields(lines[l]);
    if (fields.size() != header.size())
      return invalid(name + ": row " + std::to_string(row) + " has " +
                     std::to_string(fields.size()) + " values, the header has " +
                     std::to_string(header.size()) + " columns");
    for (size_t c : feature_columns) {
      const auto value = number(fields[c]);
      if (!value) {
        const std::string what =
            fields[c].empty() ? "a missing value" : shown(fields[c]) + " is not a number";
        return invalid(name + ": row " + std::to_string(row) + ", column " + shown(header[c]) +
                       ": " + what);
      }
      table.data.features.push_back(*value);
    }
    if (fields[label->second].empty())
      return invalid(name + ": row " + std::to_string(row) + ", column " + shown(spec.label) +
                     ": a missing value");
    table.label_text.push_back(fields[label->second]);
    table.label_rows.push_back(row);
    ++table.data.rows;
  }
  if (table.data.rows == 0) return invalid(name + ": no rows after the header");
  return table;
}

// The classes in their natural order: numerically when every label is a whole number.
std::vector<std::string> classes_of(const std::vector<std::string>& labels) {
  std::vector<std::string> classes(labels.begin(), labels.end());
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  const bool whole = std::all_of(classes.begin(), classes.end(), [](const std::string& c) {
    char* end = nullptr;
    std::strtoll(c.c_str(), &end, 10);
    return end == c.c_str() + c.size();
  });
  if (whole) {
    std::sort(classes.begin(), classes.end(), [](const std::string& a, const std::string& b) {
      return std::strtoll(a.c_str(), nullptr, 10) < std::strtoll(b.c_str(), nullptr, 10);
    });
  }
  return classes;
}

// Turns the label text into numbers: class indexes (`classes` learned when empty) or targets.
std::variant<dataset, msg::error> with_labels(csv_table table, const std::string& name,
                                              const std::string& label, task_kind task,
                                              std::vector<std::string>& classes) {
  if (task == task_kind::classification) {
    if (classes.empty()) classes = classes_of(table.label_text);
    std::map<std::string, float> index;
    for (size_t c = 0; c < classes.size(); ++c) index.emplace(classes[c], static_cast<float>(c));
    for (size_t r = 0; r < table.label_text.size(); ++r) {
      auto found = index.find(table.label_text[r]);
      if (found == index.end())
        return invalid(name + ": row " + std::to_string(table.label_rows[r]) + ", column " +
                       shown(label) + ": class " + shown(table.label_text[r]) +
                       " is not in the training data");
      table.data.labels.push_back(found->second);
    }
  } else {
    for (size_t r = 0; r < table.label_text.size(); ++r) {
      const auto value = number(table.label_text[r]);
      if (!value)
        return invalid(name + ": row " + std::to_string(table.label_rows[r]) + ", column " +
                       shown(label) + ": " + shown(table.label_text[r]) + " is not a number");
      table.data.labels.push_back(*value);
    }
  }
  return std::move(table.data);
}

std::variant<dataset, msg::error> read_csv(const std::string& path, const std::string& name,
                                           const train_spec& spec,
                                           std::vector<std::string>& classes,
                                           std::string& content) {
  try {
    content = host::read_whole_file(path);
  } catch (const host::file_error& e) {
    return msg::error{msg::error_code::not_found, name + ": " + e.what()};
  }
  auto table = parse_csv(content, name, spec.data);
  if (auto* error = std::get_if<msg::error>(&table)) return *error;
  return with_labels(std::move(std::get<csv_table>(table)), name, spec.data.label, spec.task,
                     classes);
}

// The first `count` of `rows` in a row order shuffled from `seed`, and the others.
std::pair<dataset, dataset> split(const dataset& all, int64_t count, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(all.rows));
  for (int64_t i = 0; i < all.rows; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937_64 random(seed);
  std::shuffle(order.begin(), order.end(), random);
  auto take = [&](size_t begin, size_t end) {
    dataset part;
    part.feature_names = all.feature_names;
    const auto width = static_cast<size_t>(all.columns());
    for (size_t i = begin; i < end; ++i) {
      const auto r = static_cast<size_t>(order[i]);
      part.features.insert(part.features.end(), all.features.begin() + r * width,
                           all.features.begin() + (r + 1) * width);
      part.labels.push_back(all.labels[r]);
    }
    part.rows = static_cast<int64_t>(end - begin);
    return part;
  };
  const auto first = static_cast<size_t>(count);
  return {take(0, first), take(first, order.size())};
}

standardization statistics(const dataset& data) {
  const auto width = static_cast<size_t>(data.columns());
  std::vector<double> sum(width, 0.0), squares(width, 0.0);
  for (size_t i = 0; i < data.features.size(); ++i) {
    sum[i % width] += data.features[i];
    squares[i % width] += static_cast<double>(data.features[i]) * data.features[i];
  }
  standardization stats;
  const auto n = static_cast<double>(std::max<int64_t>(data.rows, 1));
  for (size_t c = 0; c < width; ++c) {
    const double mean = sum[c] / n;
    const double deviation = std::sqrt(std::max(0.0, squares[c] / n - mean * mean));
    stats.mean.push_back(static_cast<float>(mean));
    stats.std.push_back(deviation > 1e-12 ? static_cast<float>(deviation) : 1.0f);
  }
  return stats;
}

}  // namespace

dataset synthesize(const synthetic_data& spec) {
  std::mt19937_64 random(spec.seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const auto width = static_cast<size_t>(spec.features);
  dataset data;
  for (int64_t f = 0; f < spec.features; ++f) data.feature_names.push_back("x" + std::to_string(f));
  data.rows = spec.rows;
  data.features.reserve(static_cast<size_t>(spec.rows) * width);
  if (spec.classes > 0) {
    std::vector<float> centres(static_cast<size_t>(spec.classes) * width);
    const float spread = 3.0f / std::sqrt(static_cast<float>(width));
    for (auto& c : centres) c = spread * noise(random);
    std::uniform_int_distribution<int64_t> pick(0, spec.classes - 1);
    for (int64_t r = 0; r < spec.rows; ++r) {
      const auto c = static_cast<size_t>(pick(random));
      for (size_t f = 0; f < width; ++f)
        data.features.push_back(centres[c * width + f] + noise(random));
      data.labels.push_back(static_cast<float>(c));
    }
  } else {
    std::vector<float> weights(width);
    for (auto& w : weights) w = noise(random) / std::sqrt(static_cast<float>(width));
    for (int64_t r = 0; r < spec.rows; ++r) {
      float target = 0.1f * noise(random);
      for (size_t f = 0; f < width; ++f) {
        data.features.push_back(noise(random));
        target += weights[f] * data.features.back();
      }
      data.labels.push_back(target);
    }
  }
  return data;
}

std::variant<training_data, msg::error> load_training_data(const train_spec& spec,
                                                           const data_files& files) {
  training_data out;
  dataset all;
  std::string fingerprinted;
  if (spec.data.synthetic) {
    const auto& s = *spec.data.synthetic;
    if (s.rows <= 0 || s.features <= 0 || s.classes < 0)
      return invalid("data.synthetic: rows and features must be > 0, classes >= 0");
    if ((s.classes == 0) != (spec.task == task_kind::regression))
      return invalid(
          "data.synthetic.classes: 0 for regression, the class count for "
          "classification");
    all = synthesize(s);
    for (int64_t c = 0; c < s.classes; ++c) out.classes.push_back(std::to_string(c));
    fingerprinted = "synthetic rows=" + std::to_string(s.rows) +
                    " features=" + std::to_string(s.features) +
                    " classes=" + std::to_string(s.classes) + " seed=" + std::to_string(s.seed);
  } else {
    auto read = read_csv(files.dataset, "dataset " + shown(spec.data.dataset), spec, out.classes,
                         fingerprinted);
    if (auto* error = std::get_if<msg::error>(&read)) return *error;
    all = std::move(std::get<dataset>(read));
  }
  if (!spec.data.validation_dataset.empty()) {
    std::string content;
    auto read = read_csv(files.validation, "dataset " + shown(spec.data.validation_dataset), spec,
                         out.classes, content);
    if (auto* error = std::get_if<msg::error>(&read)) return *error;
    out.validation = std::move(std::get<dataset>(read));
    if (out.validation.feature_names != all.feature_names)
      return invalid("data.validation_dataset: its feature columns differ from the dataset's");
    out.train = std::move(all);
    fingerprinted += content;
  } else {
    const auto split_rows = static_cast<int64_t>(
        std::llround(spec.data.validation_split * static_cast<double>(all.rows)));
    if (split_rows >= all.rows) return invalid("data.validation_split: leaves no training rows");
    auto [validation, train] = split(all, split_rows, spec.seed);
    out.validation = std::move(validation);
    out.train = std::move(train);
  }
  out.stats = statistics(out.train);
  out.fingerprint = artifacts::sha256_hex(fingerprinted);
  return out;
}

}  // namespace troupe::training
