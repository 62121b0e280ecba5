#define BOOST_TEST_MODULE predict_rows
// A predict task's rows: the header's layout, the shards that split the rows between tasks by
// bytes (each task's window of the file, as it fetches it), each
// row parsed (a bad one named by its line and id) and the scores written back as CSV.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "nodes/predict/predict_rows.hpp"

using namespace troupe::predict;

namespace {

csv_layout layout_of(std::string_view header, const std::vector<std::string>& features = {}) {
  auto read = read_header(header, "id", features);
  BOOST_TEST_REQUIRE(std::holds_alternative<csv_layout>(read));
  return std::get<csv_layout>(read);
}

std::string header_refusal(std::string_view header, const std::vector<std::string>& features) {
  auto read = read_header(header, "id", features);
  BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(read));
  return std::get<std::string>(read);
}

// How reading every row of `body` (header on line 1) ends: "" or the bad row's message.
std::string read_all(const csv_layout& layout, std::string_view body) {
  row_reader rows(layout, body, 2);
  std::vector<float> features;
  std::vector<std::string_view> ids;
  try {
    while (!rows.done()) rows.read(2, features, ids);
  } catch (const bad_row& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(predict_rows)

BOOST_AUTO_TEST_CASE(every_column_but_the_id_is_a_feature_in_order_by_default) {
  const auto layout = layout_of("a,id,b,c");
  BOOST_TEST(layout.columns == 4u);
  BOOST_TEST(layout.id_column == 1u);
  BOOST_TEST(layout.feature_count == 3u);
  BOOST_TEST(layout.feature_of_column == (std::vector<int32_t>{0, -1, 1, 2}));
}

BOOST_AUTO_TEST_CASE(listed_features_take_the_order_of_the_list_and_skip_the_others) {
  const auto layout = layout_of("id,a,b,c\r", {"c", "a"});
  BOOST_TEST(layout.feature_count == 2u);
  BOOST_TEST(layout.feature_of_column == (std::vector<int32_t>{-1, 1, -1, 0}));
}

BOOST_AUTO_TEST_CASE(a_header_without_the_named_columns_is_refused_saying_which) {
  BOOST_TEST(header_refusal("key,a", {}) == "the header has no id column 'id'");
  BOOST_TEST(header_refusal("id,a", {"a", "z"}) == "the header has no feature column 'z'");
  BOOST_TEST(header_refusal("id,a,a", {}) == "the header names column 'a' twice");
  BOOST_TEST(header_refusal("id", {}) == "the header has no column but the id");
}

namespace {

// What `tasks` tasks score of `file` (a header line, then the body), each cutting its lines out of
// pieces of `piece` bytes (as it fetches them): their lines, in task order.
std::vector<std::string> shards_of(const std::string& file, uint32_t tasks, uint64_t piece) {
  const uint64_t body_begin = file.find('\n') + 1;
  std::vector<std::string> out;
  for (uint32_t task = 0; task < tasks; ++task) {
    shard_cutter cutter(share_of(body_begin, file.size(), task, tasks), body_begin, file.size());
    std::string lines;
    while (!cutter.done()) {
      BOOST_TEST_REQUIRE(cutter.next_offset() < file.size(), "task " << task << " reads on");
      const auto cut = cutter.next(std::string_view(file).substr(cutter.next_offset(), piece));
      const auto text = cut.head + std::string(cut.lines) + cut.tail;
      const auto rows =
          static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')) + (!cut.tail.empty());
      BOOST_TEST(cut.rows == rows, "task " << task << ": " << text);
      lines += text;
    }
    out.push_back(lines);
  }
  return out;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(shards_are_contiguous_whole_lines_and_cover_every_row_once) {
  const std::string header = "id,x\n";
  for (const char* text : {"1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n7,g",  // no last newline
                           "1,a\n22,bb\n333,ccc\n4444,dddd\n55555,eeeee\n", "1,a\n"}) {
    const std::string body = text;
    for (uint32_t tasks : {1u, 2u, 3u, 4u, 7u, 20u})
      for (uint64_t piece : {1u, 2u, 3u, 5u, 64u}) {
        const auto shards = shards_of(header + body, tasks, piece);
        BOOST_TEST(joined(shards) == body, tasks << " tasks, pieces of " << piece);
        size_t at = 0;  // whole lines: each shard begins where a line does
        for (const auto& shard : shards) {
          BOOST_TEST((shard.empty() || at == 0 || body[at - 1] == '\n'),
                     tasks << " tasks: " << shard);
          at += shard.size();
        }
      }
  }
  // Each task's lines are those that begin in its bytes: about a quarter of them each.
  const auto four = shards_of(header + "1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n7,g\n8,h\n", 4, 3);
  BOOST_TEST(
      four == (std::vector<std::string>{"1,a\n2,b\n", "3,c\n4,d\n", "5,e\n6,f\n", "7,g\n8,h\n"}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_line_that_pieces_share_is_joined_and_the_shard_ends_with_its_last_line) {
  const std::string file = "id,x\n1,a\n2,a-very-long-line\n3,c\n";
  const uint64_t body_begin = 5;
  const auto share = share_of(body_begin, file.size(), 0, 2);  // ends inside line 2
  shard_cutter cutter(share, body_begin, file.size());
  const auto first = cutter.next(std::string_view(file).substr(5, 7));  // "1,a\n2,a"
  BOOST_TEST(first.head.empty());
  BOOST_TEST(first.lines == "1,a\n");
  BOOST_TEST(first.rows == 1u);
  BOOST_TEST(!cutter.done());
  BOOST_TEST(cutter.next_offset() == 12u);
  const auto middle = cutter.next(std::string_view(file).substr(12, 4));  // "-ver"
  BOOST_TEST((middle.head.empty() && middle.lines.empty() && middle.rows == 0u));
  const auto last = cutter.next(std::string_view(file).substr(16));
  BOOST_TEST(last.head == "2,a-very-long-line\n");
  BOOST_TEST(last.lines.empty());  // 3,c is task 1's
  BOOST_TEST(last.rows == 1u);
  BOOST_TEST(cutter.done());
}

BOOST_AUTO_TEST_CASE(a_last_line_without_a_newline_is_the_tail_of_the_last_piece) {
  const std::string file = "id,x\n1,a\n2,b";
  shard_cutter cutter(share_of(5, file.size(), 0, 1), 5, file.size());
  const auto cut = cutter.next(std::string_view(file).substr(5, 5));  // "1,a\n2"
  BOOST_TEST(cut.lines == "1,a\n");
  BOOST_TEST(!cutter.done());
  const auto end = cutter.next(std::string_view(file).substr(10));
  BOOST_TEST(end.tail == "2,b");
  BOOST_TEST(end.rows == 1u);
  BOOST_TEST(cutter.done());
}

BOOST_AUTO_TEST_CASE(more_tasks_than_lines_leave_some_shards_empty) {
  const auto shards = shards_of("id,x\n1,a\n", 3, 2);
  BOOST_TEST(shards == (std::vector<std::string>{"1,a\n", "", ""}),
             boost::test_tools::per_element());
  BOOST_TEST(shards_of("id,x\n", 2, 2) == (std::vector<std::string>{"", ""}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(rows_are_parsed_into_their_features_and_ids) {
  const auto layout = layout_of("b,id,a", {"a", "b"});
  row_reader rows(layout, "1.5, x1 ,-2\n3e2,x2,0.25\r\n", 2);
  std::vector<float> features;
  std::vector<std::string_view> ids;
  BOOST_TEST(rows.read(10, features, ids) == 2u);
  BOOST_TEST(rows.done());
  BOOST_TEST(features == (std::vector<float>{-2.f, 1.5f, 0.25f, 300.f}));
  BOOST_TEST(ids == (std::vector<std::string_view>{"x1", "x2"}));
}

BOOST_AUTO_TEST_CASE(a_batch_stops_at_its_rows_and_the_next_goes_on) {
  const auto layout = layout_of("id,a");
  row_reader rows(layout, "r1,1\nr2,2\nr3,3\n", 2);
  std::vector<float> features;
  std::vector<std::string_view> ids;
  BOOST_TEST(rows.read(2, features, ids) == 2u);
  BOOST_TEST(!rows.done());
  BOOST_TEST(rows.read(2, features, ids) == 1u);
  BOOST_TEST(rows.done());
  BOOST_TEST(features == (std::vector<float>{1.f, 2.f, 3.f}));
}

BOOST_AUTO_TEST_CASE(a_bad_row_is_named_by_its_line_and_id) {
  const auto layout = layout_of("a,id,b");
  BOOST_TEST(read_all(layout, "1,r1,2\n3,r2\n") == "line 3 (id 'r2'): expected 3 columns, got 2");
  BOOST_TEST(read_all(layout, "1,r1,2\n1,r2,2,4\n") ==
             "line 3 (id 'r2'): expected 3 columns, got 4");
  BOOST_TEST(read_all(layout, "1,r1,2\n\n") == "line 3 (no id): an empty line, expected 3 columns");
  BOOST_TEST(read_all(layout, "1,r1,2\n1,r2,2\nabc,r3,1\n") ==
             "line 4 (id 'r3'): column 'a' is not a finite number: 'abc'");
  BOOST_TEST(read_all(layout, "nan,r1,2\n") ==
             "line 2 (id 'r1'): column 'a' is not a finite number: 'nan'");
  BOOST_TEST(read_all(layout, "1,r1,inf\n") ==
             "line 2 (id 'r1'): column 'b' is not a finite number: 'inf'");
  BOOST_TEST(read_all(layout, "1,r1,1e999\n") ==
             "line 2 (id 'r1'): column 'b' is not a finite number: '1e999'");
  BOOST_TEST(read_all(layout, "1,r1,2x\n") ==
             "line 2 (id 'r1'): column 'b' is not a finite number: '2x'");
  BOOST_TEST(read_all(layout, "1,r1,\n") ==
             "line 2 (id 'r1'): column 'b' is not a finite number: ''");
  BOOST_TEST(read_all(layout, "1 2,r1,3\n") ==
             "line 2 (id 'r1'): column 'a' is not a finite number: '1 2'");
  BOOST_TEST(read_all(layout, "1.5e,r1,3\n") ==
             "line 2 (id 'r1'): column 'a' is not a finite number: '1.5e'");
  BOOST_TEST(read_all(layout, "\r1,r1,3\n") ==
             "line 2 (id 'r1'): column 'a' is not a finite number: '?1'");
  BOOST_TEST(read_all(layout, "1,r1,+3\n") ==
             "line 2 (id 'r1'): column 'b' is not a finite number: '+3'");
}

BOOST_AUTO_TEST_CASE(a_classifier_writes_its_label_and_a_probability_per_class) {
  const auto columns = columns_for(true, 3, {"food", "rent", "travel"});
  BOOST_TEST(header_line(columns) == "id,prediction,p_food,p_rent,p_travel\n");
  std::string out;
  append_rows(columns, {"t1", "t2"}, {0.25f, 0.5f, 0.25f, 0.7f, 0.1f, 0.2f}, out);
  BOOST_TEST(out == "t1,rent,0.25,0.5,0.25\nt2,food,0.7,0.1,0.2\n");
  BOOST_TEST(header_line(columns_for(true, 2, {})) == "id,prediction,p_0,p_1\n");
}

BOOST_AUTO_TEST_CASE(a_values_model_writes_its_outputs) {
  BOOST_TEST(header_line(columns_for(false, 1, {})) == "id,prediction\n");
  const auto columns = columns_for(false, 2, {});
  BOOST_TEST(header_line(columns) == "id,prediction_0,prediction_1\n");
  std::string out;
  append_rows(columns, {"t1"}, {1.5f, -3.f}, out);
  BOOST_TEST(out == "t1,1.5,-3\n");
}

BOOST_AUTO_TEST_SUITE_END()
