// The rows of a predict task (docs/jobs.md, "Fields of predict"): a CSV dataset with a header
// row, read in place (the caller keeps the text alive), split into contiguous shards, each row
// parsed into the model's feature values without an allocation per row, and the scores written
// back as CSV. Plain C++: no torch, no cluster.
//
// Rows are the lines after the header. Task i of T scores the lines that begin in bytes
// [i*B/T, (i+1)*B/T) of the B bytes after the header, so that it fetches only those bytes (and
// the rest of its last line), not the whole dataset. Lines are numbered as an editor does (the
// header is line 1). A field is taken as it is, without
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

// Task `task` of `tasks`'s bytes of the file: lines that begin in [begin, end) are its.
struct byte_share {
  uint64_t begin = 0, end = 0;
};

// The share of a file of `file_size` bytes whose body (the lines after the header) begins at
// `body_begin`.
byte_share share_of(uint64_t body_begin, uint64_t file_size, uint32_t task, uint32_t tasks);

// The first byte of the file a task fetches for its share: one before it (was the byte before a
// newline?), or the body's first.
uint64_t window_begin(byte_share share, uint64_t body_begin);

// A task's lines cut out of its bytes as they arrive: consecutive pieces of the file from
// window_begin(share, body_begin) on, each as long as the caller likes, until done(). A line
// that two pieces share is joined; the rest are views into the pieces.
class shard_cutter {
 public:
  shard_cutter(byte_share share, uint64_t body_begin, uint64_t file_size);

  // The shard's whole lines that a piece completes, in order: `head`, a line begun in an earlier
  // piece (or empty); `lines`, whole lines within the piece; `tail`, the file's last line when
  // it has no newline (or empty).
  struct lines_of_piece {
    std::string head;
    std::string_view lines;
    std::string tail;
    uint64_t rows = 0;
  };
  // `piece`: the file's bytes from next_offset() on (not empty, unless at the file's end).
  lines_of_piece next(std::string_view piece);

  uint64_t next_offset() const { return offset_; }
  // Whether the shard's last line is given: no piece more is needed.
  bool done() const { return done_; }

 private:
  byte_share share_;
  uint64_t file_size_;
  uint64_t offset_;
  bool before_first_line_;  // the bytes so far end inside the line before the shard's first
  bool done_;
  std::string begun_;  // a line begun in earlier pieces, not ended yet
};

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

// A row that is not one: what() is "line LINE" + detail, e.g. "line 7 (id 'r5'): ...".
struct bad_row : std::runtime_error {
  bad_row(uint64_t line, const std::string& detail);
  uint64_t line;       // as the reader numbered it
  std::string detail;  // where (" (id 'r5')" or " (no id)") and why (": ...")
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
