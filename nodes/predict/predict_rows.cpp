#include "nodes/predict/predict_rows.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace troupe::predict {
namespace {

std::string_view trimmed(std::string_view field) {
  while (!field.empty() && (field.back() == ' ' || field.back() == '\r')) field.remove_suffix(1);
  while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
  return field;
}

// The line at `at` without its '\n'; `at` moves past it.
std::string_view next_line(std::string_view text, size_t& at) {
  const auto newline = text.find('\n', at);
  const auto end = newline == std::string_view::npos ? text.size() : newline;
  const auto line = text.substr(at, end - at);
  at = newline == std::string_view::npos ? text.size() : newline + 1;
  return line;
}

// The field that begins at `at` in `line`: up to its comma or the line's end.
std::string_view field_at(std::string_view line, size_t at) {
  const auto comma = line.find(',', at);
  return line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
}

// A short, printable quote of a value for an error.
std::string quoted(std::string_view text) {
  constexpr size_t most = 40;
  std::string out = "'";
  for (char c : text.substr(0, most)) out += (c >= ' ' && c != 0x7f) ? c : '?';
  return out + (text.size() > most ? "...'" : "'");
}

// The newlines in `text`.
uint64_t newlines_in(std::string_view text) {
  uint64_t n = 0;
  for (const char* at = text.data(); at != text.data() + text.size(); ++n) {
    const void* newline =
        std::memchr(at, '\n', static_cast<size_t>(text.data() + text.size() - at));
    if (!newline) break;
    at = static_cast<const char*>(newline) + 1;
  }
  return n;
}

// Where a bad row is: its id, when it has one (the error path: the line is split again).
std::string row_named(std::string_view line, size_t id_column) {
  size_t column = 0, start = 0;
  for (size_t at = 0; at <= line.size(); ++at) {
    if (at != line.size() && line[at] != ',') continue;
    if (column++ == id_column)
      return " (id " + quoted(trimmed(line.substr(start, at - start))) + ")";
    start = at + 1;
  }
  return " (no id)";
}

void append_float(float value, std::string& out) {
  char buffer[32];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, written.ptr);
}

}  // namespace

std::variant<csv_layout, std::string> read_header(std::string_view header,
                                                  const std::string& id_column,
                                                  const std::vector<std::string>& features) {
  std::vector<std::string_view> names;
  for (size_t at = 0, start = 0;; ++at) {
    if (at == header.size() || header[at] == ',') {
      names.push_back(trimmed(header.substr(start, at - start)));
      start = at + 1;
      if (at == header.size()) break;
    }
  }
  std::unordered_map<std::string_view, size_t> column_of;
  for (size_t i = 0; i < names.size(); ++i)
    if (!column_of.emplace(names[i], i).second)
      return "the header names column " + quoted(names[i]) + " twice";
  const auto id = column_of.find(id_column);
  if (id == column_of.end()) return "the header has no id column " + quoted(id_column);
  csv_layout out;
  out.names.assign(names.begin(), names.end());
  out.columns = names.size();
  out.id_column = id->second;
  out.feature_of_column.assign(names.size(), -1);
  if (features.empty()) {
    for (size_t i = 0; i < names.size(); ++i)
      if (i != out.id_column) out.feature_of_column[i] = static_cast<int32_t>(out.feature_count++);
    if (out.feature_count == 0) return "the header has no column but the id";
    return out;
  }
  for (const auto& feature : features) {
    const auto column = column_of.find(feature);
    if (column == column_of.end()) return "the header has no feature column " + quoted(feature);
    out.feature_of_column[column->second] = static_cast<int32_t>(out.feature_count++);
  }
  return out;
}

bad_row::bad_row(uint64_t line_number, const std::string& where_and_why)
    : std::runtime_error("line " + std::to_string(line_number) + where_and_why),
      line(line_number),
      detail(where_and_why) {}

byte_share share_of(uint64_t body_begin, uint64_t file_size, uint32_t task, uint32_t tasks) {
  const uint64_t body = file_size > body_begin ? file_size - body_begin : 0;
  return {body_begin + body * task / tasks, body_begin + body * (task + 1) / tasks};
}

uint64_t window_begin(byte_share share, uint64_t body_begin) {
  return share.begin == body_begin ? share.begin : share.begin - 1;
}

shard_cutter::shard_cutter(byte_share share, uint64_t body_begin, uint64_t file_size)
    : share_(share),
      file_size_(file_size),
      offset_(window_begin(share, body_begin)),
      before_first_line_(share.begin != body_begin),
      done_(share.begin == share.end) {}

shard_cutter::lines_of_piece shard_cutter::next(std::string_view piece) {
  lines_of_piece out;
  if (done_) return out;
  const uint64_t origin = offset_;
  offset_ += piece.size();
  const bool at_file_end = offset_ >= file_size_;
  // A line begins at the body's first byte and after each newline; the window begins one byte
  // before the share, so a line that begins at its first byte follows a newline here.
  size_t first = 0;
  if (before_first_line_) {
    const auto newline = piece.find('\n');
    if (newline == std::string_view::npos || origin + newline + 1 >= share_.end) {
      done_ = at_file_end || newline != std::string_view::npos;  // no line begins in the share
      return out;
    }
    first = newline + 1;
    before_first_line_ = false;
  }
  // Its last line is the one that holds the share's last byte.
  const uint64_t last_byte = share_.end - 1;
  const size_t search_from =
      last_byte >= origin ? std::max<uint64_t>(first, last_byte - origin) : first;
  size_t end = piece.size();
  if (search_from < piece.size()) {
    const auto last = piece.find('\n', search_from);
    if (last != std::string_view::npos) {
      end = last + 1;
      done_ = true;
    }
  }
  auto rest = piece.substr(first, end - first);
  if (!begun_.empty()) {
    const auto newline = rest.find('\n');
    if (newline == std::string_view::npos) {
      begun_.append(rest);
      rest = {};
    } else {
      out.head = std::move(begun_);
      out.head.append(rest.substr(0, newline + 1));
      begun_.clear();
      rest.remove_prefix(newline + 1);
    }
  }
  const auto whole = rest.rfind('\n') + 1;  // 0 when there is no newline
  out.lines = rest.substr(0, whole);
  begun_.append(rest.substr(whole));
  if (at_file_end) {
    out.tail = std::move(begun_);
    begun_.clear();
    done_ = true;
  }
  out.rows = !out.head.empty() + newlines_in(out.lines) + !out.tail.empty();
  return out;
}

row_reader::row_reader(const csv_layout& layout, std::string_view text, uint64_t first_line)
    : layout_(layout), text_(text), line_(first_line) {}

size_t row_reader::read(size_t rows, std::vector<float>& features,
                        std::vector<std::string_view>& ids) {
  size_t count = 0;
  for (; count < rows && !done(); ++count, ++line_) {
    const auto line = next_line(text_, at_);
    const auto base = features.size();
    features.resize(base + layout_.feature_count);
    std::string_view id;
    const auto fail = [&](const std::string& why) {
      throw bad_row(line_, row_named(line, layout_.id_column) + ": " + why);
    };
    if (trimmed(line).empty())
      fail("an empty line, expected " + std::to_string(layout_.columns) + " columns");
    // Each field is scanned once: a feature by from_chars itself, which stops at its end,
    // anything else by looking for its comma.
    size_t column = 0;
    for (size_t at = 0;; ++column) {
      const int32_t feature = column < layout_.columns && column != layout_.id_column
                                  ? layout_.feature_of_column[column]
                                  : -1;
      size_t end = 0;  // the field's comma, or the line's end
      if (feature >= 0) {
        auto start = at;
        while (start < line.size() && line[start] == ' ') ++start;
        float value = 0;
        const auto parsed = std::from_chars(line.data() + start, line.data() + line.size(), value);
        end = static_cast<size_t>(parsed.ptr - line.data());
        while (end < line.size() && (line[end] == ' ' || line[end] == '\r')) ++end;
        if (parsed.ec != std::errc() || (end != line.size() && line[end] != ',') ||
            !std::isfinite(value))
          fail("column " + quoted(layout_.names[column]) +
               " is not a finite number: " + quoted(trimmed(field_at(line, at))));
        features[base + static_cast<size_t>(feature)] = value;
      } else {
        const auto field = field_at(line, at);
        if (column == layout_.id_column) id = trimmed(field);
        end = at + field.size();
      }
      if (end == line.size()) break;
      at = end + 1;
    }
    if (++column != layout_.columns)
      fail("expected " + std::to_string(layout_.columns) + " columns, got " +
           std::to_string(column));
    ids.push_back(id);
  }
  return count;
}

output_columns columns_for(bool classifier, uint32_t outputs,
                           const std::vector<std::string>& classes) {
  output_columns out;
  out.classifier = classifier;
  if (classes.size() == outputs) {
    out.names = classes;
    return out;
  }
  if (!classifier && outputs == 1) {
    out.names = {"prediction"};
    return out;
  }
  for (uint32_t i = 0; i < outputs; ++i)
    out.names.push_back((classifier ? "" : "prediction_") + std::to_string(i));
  return out;
}

std::string header_line(const output_columns& columns) {
  std::string out = "id";
  if (columns.classifier) out += ",prediction";
  for (const auto& name : columns.names) out += (columns.classifier ? ",p_" : ",") + name;
  return out + "\n";
}

void append_rows(const output_columns& columns, const std::vector<std::string_view>& ids,
                 const std::vector<float>& outputs, std::string& out) {
  const auto width = columns.names.size();
  for (size_t row = 0; row < ids.size(); ++row) {
    const float* values = outputs.data() + row * width;
    out += ids[row];
    if (columns.classifier) {
      out += ',';
      out += columns.names[static_cast<size_t>(std::max_element(values, values + width) - values)];
    }
    for (size_t i = 0; i < width; ++i) {
      out += ',';
      append_float(values[i], out);
    }
    out += '\n';
  }
}

}  // namespace troupe::predict
