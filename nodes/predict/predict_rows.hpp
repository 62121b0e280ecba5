// The rows of a predict task (docs/jobs.md, "Fields of predict"): a CSV dataset with a header
// row, read in place (the caller keeps the text alive), split into contiguous shards, each row
// parsed into the model's feature values without an allocation per row, and the scores written
// back as CSV. Plain C++: no torch, no cluster.
//
// Rows are the lines after the header; task i of T scores rows [i*N/T, (i+1)*N/T) of N. Lines
// are numbered as an editor does (the header is line 1). A field is taken as it is, without
// quoting; a trailing '\r' (CRLF files) and spaces around a value are ignored.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace troupe::predict {

// Which columns of the dataset the id and each of the model's features are.
struct csv_layout {
  std::vector<std::string> names;  // of the columns
  size_t columns = 0;
  size_t id_column = 0;
  std::vector<int32_t> feature_of_column;  // per column: its feature's index, or -1
  size_t feature_count = 0;
};

// The layout of a header for `id_column` and `features` (empty: every column but the id, in
// order); or why not: a column missing, or named twice.
std::variant<csv_layout, std::string> read_header(std::string_view header,
                                                  const std::string& id_column,
                                                  const std::vector<std::string>& features);

// A task's contiguous rows of the body (the text after the header line).
struct shard {
  uint64_t total_rows = 0;  // of the whole dataset
  uint64_t first_row = 0;
  uint64_t rows = 0;
  size_t begin = 0, end = 0;  // byte range of its lines in the body
};

shard find_shard(std::string_view body, uint32_t task, uint32_t tasks);

// Parses lines one at a time from a shard's text into a batch of feature values.
class row_reader {
 public:
  // `text` is the shard's lines; `first_line` the file's line number of its first.
  row_reader(const csv_layout& layout, std::string_view text, uint64_t first_line);

  // Appends up to `rows` rows to `features` (feature_count values each) and their ids to `ids`
  // (views into the text); returns how many, or throws bad_row for a row that is not one.
  size_t read(size_t rows, std::vector<float>& features, std::vector<std::string_view>& ids);
  bool done() const { return at_ >= text_.size(); }

 private:
  const csv_layout& layout_;
  std::string_view text_;
  size_t at_ = 0;
  uint64_t line_;
};

struct bad_row : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How a model's outputs become columns: a classifier's predicted label and one probability per
// class (`p_<class>`), or a `values` model's outputs.
struct output_columns {
  bool classifier = false;
  std::vector<std::string> names;  // the classes, or the value columns
};

output_columns columns_for(bool classifier, uint32_t outputs,
                           const std::vector<std::string>& classes);
std::string header_line(const output_columns& columns);
// Appends one line per row: id, then the prediction and probabilities or the values.
void append_rows(const output_columns& columns, const std::vector<std::string_view>& ids,
                 const std::vector<float>& outputs, std::string& out);

}  // namespace troupe::predict
