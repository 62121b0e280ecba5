#define BOOST_TEST_MODULE predict_rows
// A predict task's rows: the header's layout, the shards that split the rows between tasks, each
// row parsed (a bad one named by its line and id) and the scores written back as CSV.
#include <boost/test/unit_test.hpp>

#include <string>

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

BOOST_AUTO_TEST_CASE(shards_are_contiguous_and_cover_every_row_once) {
  const std::string body = "1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n7,g";  // no newline after the last
  uint64_t next = 0;
  size_t end = 0;
  for (uint32_t task = 0; task < 4; ++task) {
    const auto s = find_shard(body, task, 4);
    BOOST_TEST(s.total_rows == 7u);
    BOOST_TEST(s.first_row == next);
    BOOST_TEST(s.begin == end);
    next += s.rows;
    end = s.end;
  }
  BOOST_TEST(next == 7u);
  BOOST_TEST(end == body.size());
  const auto last = find_shard(body, 3, 4);
  BOOST_TEST(body.substr(last.begin, last.end - last.begin) == "6,f\n7,g");
  const auto one = find_shard(body, 0, 1);
  BOOST_TEST(one.rows == 7u);
}

BOOST_AUTO_TEST_CASE(more_tasks_than_rows_leave_some_shards_empty) {
  const auto s = find_shard("1,a\n", 0, 3);
  BOOST_TEST(s.total_rows == 1u);
  BOOST_TEST(s.rows == 0u);
  BOOST_TEST(find_shard("1,a\n", 2, 3).rows == 1u);
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
