// Datasets assembled from parts on the head (no daemons): the parts' bytes in order with the
// header once; parts whose headers differ, or without a header or a last newline, are refused.
#define BOOST_TEST_MODULE dataset_assembly_test
#include <boost/test/unit_test.hpp>

#include "cluster/artifacts/dataset_assembly.hpp"
#include "tests/unit/cluster/artifact_test_support.hpp"

namespace troupe::artifacts {

using namespace test;

BOOST_AUTO_TEST_SUITE(dataset_assembly)

// `rows` CSV rows "i,<i*7>\n" from `first` on, after `header`.
std::string csv_part(const std::string& header, int first, int rows) {
  std::string text = header;
  for (int i = first; i < first + rows; ++i)
    text += std::to_string(i) + "," + std::to_string(i * 7) + "\n";
  return text;
}

// Stores `text` as a blob; returns the part that names it.
assembly_part stored_part(const blob_store& blobs, const std::string& label,
                          const std::string& text) {
  BOOST_TEST_REQUIRE(!store_blob(blobs, text, sha256_hex(text)));
  return {label, sha256_hex(text), text.size()};
}

std::variant<assembled_blob, msg::error> assemble(const blob_store& blobs,
                                                  const std::vector<assembly_part>& parts,
                                                  uint64_t max_bytes = uint64_t{1} << 40) {
  return assemble_csv(blobs, parts, "aa11", max_bytes);
}

std::string refusal(const std::variant<assembled_blob, msg::error>& got) {
  const auto* e = std::get_if<msg::error>(&got);
  BOOST_TEST_REQUIRE(e);
  BOOST_TEST(e->code == msg::error_code::invalid_request);
  return e->message;
}

BOOST_AUTO_TEST_CASE(assembled_parts_are_their_bytes_in_order_with_the_header_once) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const std::string header = "id,score\n";
  // The first part spans several read pieces (1 MiB each): rows cross their boundaries.
  const auto first = csv_part(header, 0, 200'000), second = csv_part(header, 200'000, 3),
             empty = csv_part(header, 0, 0), third = csv_part(header, 200'003, 40'000);
  BOOST_TEST_REQUIRE(first.size() > 2 * 1024 * 1024u);
  const auto got =
      assemble(blobs, {stored_part(blobs, "p0", first), stored_part(blobs, "p1", second),
                       stored_part(blobs, "p2", empty), stored_part(blobs, "p3", third)});
  const auto* e = std::get_if<msg::error>(&got);
  BOOST_TEST_REQUIRE(!e, (e ? e->message : ""));
  const auto& blob = std::get<assembled_blob>(got);
  const auto expected = csv_part(header, 0, 240'003);
  BOOST_TEST(blob.size == expected.size());
  BOOST_TEST(blob.digest == sha256_hex(expected));
  BOOST_TEST((read_all(blobs, blob.digest, blob.size) == expected));
}

BOOST_AUTO_TEST_CASE(a_part_whose_header_differs_is_refused_naming_both_headers) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto got =
      assemble(blobs, {stored_part(blobs, "parts[0] (a)", csv_part("id,score\n", 0, 5)),
                       stored_part(blobs, "parts[1] (b)", csv_part("id,other\n", 5, 5))});
  BOOST_TEST(refusal(got) ==
             "parts[1] (b): its header line `id,other\\n` is not the first part's `id,score\\n`");
  BOOST_TEST(fs::is_empty(dir.path + "/uploads"));
}

BOOST_AUTO_TEST_CASE(a_part_without_a_header_or_a_last_newline_is_refused) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto header = stored_part(blobs, "parts[0] (a)", "id,score\n1,2\n");
  BOOST_TEST(refusal(assemble(blobs, {header, stored_part(blobs, "parts[1] (b)", "")})) ==
             "parts[1] (b): no header line (a CSV part starts with its header, ending in a "
             "newline)");
  BOOST_TEST(
      refusal(assemble(blobs, {stored_part(blobs, "parts[0] (c)", "id,score\n1,2"), header})) ==
      "parts[0] (c): does not end with a newline (its last row would run into the next "
      "part's first)");
}

BOOST_AUTO_TEST_CASE(an_assembly_past_the_size_limit_is_refused_and_publishes_nothing) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto part = csv_part("id,score\n", 0, 100);
  const auto parts =
      std::vector<assembly_part>{stored_part(blobs, "p0", part), stored_part(blobs, "p1", part)};
  BOOST_TEST(refusal(assemble(blobs, parts, part.size() + 10)) ==
             "the assembled dataset would pass the head's limit of " +
                 std::to_string(part.size() + 10) + " bytes (artifact_max_bytes)");
  size_t blob_files = 0;
  for (const auto& f : fs::directory_iterator(dir.path + "/blobs")) blob_files += !f.is_directory();
  BOOST_TEST(blob_files == 2u);  // the part's bytes and checksums only
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::artifacts
