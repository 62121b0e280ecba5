// The head's blob store and the client's download on their own (no daemons): blobs are
// published only with matching bytes, every read is checked block by block, leftovers of a
// dead process are removed, removed and unreferenced blobs go, and a download whose bytes do not
// match their digest keeps nothing.
#define BOOST_TEST_MODULE artifact_files_test
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "cluster/artifacts/artifact_transfer.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "messages/print.hpp"

namespace troupe::artifacts {
namespace {

namespace fs = std::filesystem;

struct temp_dir {
  std::string path;
  temp_dir() {
    char pattern[] = "/tmp/troupe-artifacts-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::string random_bytes(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (auto& b : bytes) b = static_cast<char>(random());
  return bytes;
}

// Uploads `bytes` in pieces of `piece` bytes and commits them as `digest`.
std::optional<msg::error> store_blob(const blob_store& blobs, const std::string& bytes,
                                     const std::string& digest, size_t piece = 10'000) {
  auto upload = blobs.begin("00ff");
  for (size_t at = 0; at < bytes.size(); at += piece)
    if (auto e = upload->append(std::string_view(bytes).substr(at, piece))) return e;
  return upload->commit(digest);
}

// 1000 random bytes from `seed`, stored as a blob; returns them.
std::string stored_blob(const blob_store& blobs, unsigned seed) {
  auto bytes = random_bytes(1000, seed);
  BOOST_TEST_REQUIRE(!store_blob(blobs, bytes, sha256_hex(bytes)));
  return bytes;
}

std::string read_all(const blob_store& blobs, const std::string& digest, uint64_t size) {
  auto got = blobs.read(digest, size, 0, size);
  const auto* e = std::get_if<msg::error>(&got);
  BOOST_TEST_REQUIRE(!e, (e ? e->message : ""));
  return std::get<std::string>(got);
}

void flip_byte(const std::string& path, uint64_t at) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  const char c = static_cast<char>(f.get());
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(c ^ 0x20));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(artifact_files)

BOOST_AUTO_TEST_CASE(a_committed_blob_reads_back_in_any_range) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto bytes = random_bytes(3 * block_bytes + 17, 1);
  const auto digest = sha256_hex(bytes);
  BOOST_TEST_REQUIRE(!store_blob(blobs, bytes, digest));
  BOOST_TEST(read_all(blobs, digest, bytes.size()) == bytes);
  for (uint64_t offset : {uint64_t{0}, block_bytes - 1, block_bytes, 2 * block_bytes + 5})
    for (uint64_t length : {uint64_t{1}, block_bytes, block_bytes + 3, uint64_t{1} << 30}) {
      auto got = blobs.read(digest, bytes.size(), offset, length);
      BOOST_TEST_REQUIRE(std::holds_alternative<std::string>(got));
      BOOST_TEST(std::get<std::string>(got) == bytes.substr(offset, length),
                 "offset " << offset << " length " << length);
    }
  BOOST_TEST(std::get<std::string>(blobs.read(digest, bytes.size(), bytes.size(), 10)).empty());
}

BOOST_AUTO_TEST_CASE(bytes_that_do_not_match_the_declared_digest_are_not_published) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto bytes = random_bytes(100'000, 2);
  const auto declared = sha256_hex("something else");
  const auto refused = store_blob(blobs, bytes, declared);
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->code == msg::error_code::invalid_request);
  BOOST_TEST(refused->message.find(sha256_hex(bytes)) != std::string::npos, refused->message);
  BOOST_TEST(fs::is_empty(dir.path + "/blobs"));
  BOOST_TEST(fs::is_empty(dir.path + "/uploads"));
}

BOOST_AUTO_TEST_CASE(a_flipped_byte_or_a_truncation_is_refused_on_read_never_served) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto bytes = random_bytes(2 * block_bytes + 100, 3);
  const auto digest = sha256_hex(bytes);
  BOOST_TEST_REQUIRE(!store_blob(blobs, bytes, digest));
  flip_byte(blobs.blob_path(digest), block_bytes + 7);
  // The blocks before the damage still read; the damaged one is refused.
  BOOST_TEST(std::holds_alternative<std::string>(blobs.read(digest, bytes.size(), 0, 100)));
  auto damaged = blobs.read(digest, bytes.size(), block_bytes, 10);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(damaged));
  BOOST_TEST(std::get<msg::error>(damaged).message.find("damaged") != std::string::npos);

  fs::resize_file(blobs.blob_path(digest), 2 * block_bytes + 50);
  BOOST_TEST(
      std::holds_alternative<msg::error>(blobs.read(digest, bytes.size(), 2 * block_bytes, 10)));
  fs::remove(blobs.blob_path(digest));
  auto missing = blobs.read(digest, bytes.size(), 0, 10);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(missing));
  BOOST_TEST(std::get<msg::error>(missing).code == msg::error_code::not_found);
}

BOOST_AUTO_TEST_CASE(opening_the_store_again_removes_uploads_a_dead_process_left) {
  temp_dir dir;
  {
    blob_store blobs(dir.path);
    std::ofstream(dir.path + "/uploads/abandoned") << "partial";
  }
  blob_store blobs(dir.path);
  BOOST_TEST(fs::is_empty(dir.path + "/uploads"));
}

BOOST_AUTO_TEST_CASE(a_removed_blob_is_gone_with_its_checksums_and_others_stay) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto gone = stored_blob(blobs, 5), kept = stored_blob(blobs, 6);
  BOOST_TEST(!blobs.remove(sha256_hex(gone)));
  BOOST_TEST(!fs::exists(blobs.blob_path(sha256_hex(gone))));
  BOOST_TEST(!fs::exists(blobs.blob_path(sha256_hex(gone)) + ".blocks"));
  BOOST_TEST(read_all(blobs, sha256_hex(kept), kept.size()) == kept);
  BOOST_TEST(!blobs.remove(sha256_hex(gone)), "removing it again is no error");
}

// What a crash between removing a version's row and its blob leaves: the start-up sweep goes.
BOOST_AUTO_TEST_CASE(the_sweep_deletes_every_blob_no_stored_version_refers_to) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto orphan = stored_blob(blobs, 7), kept = stored_blob(blobs, 8);
  // Checksums whose bytes had already gone.
  const auto half_gone = std::string(64, 'e');
  std::ofstream(blobs.blob_path(half_gone) + ".blocks") << "sums";
  BOOST_TEST(blobs.sweep({sha256_hex(kept)}) == 2u);
  BOOST_TEST(!fs::exists(blobs.blob_path(sha256_hex(orphan))));
  BOOST_TEST(!fs::exists(blobs.blob_path(half_gone) + ".blocks"));
  BOOST_TEST(read_all(blobs, sha256_hex(kept), kept.size()) == kept);
  BOOST_TEST(blobs.sweep({sha256_hex(kept)}) == 0u);
}

BOOST_AUTO_TEST_CASE(a_download_whose_bytes_do_not_match_their_digest_keeps_nothing) {
  temp_dir dir;
  const auto bytes = random_bytes(700'000, 4);
  // A head that serves the bytes with one of them changed, under the true digest.
  auto served = bytes;
  served[600'000] ^= 1;
  msg::artifact_info info{
      "txn", "default", msg::artifact_kind::dataset, sha256_hex(bytes), bytes.size(), 1, ""};
  artifact_caller head = [&](msg::artifacts_message m, std::chrono::milliseconds) {
    const auto& r = std::get<msg::download_chunk_request>(m.body);
    return std::optional<msg::body>(msg::artifacts_message{
        msg::download_chunk_reply{info, r.offset, served.substr(r.offset, r.max_bytes)}});
  };
  const auto path = dir.path + "/txn.csv";
  auto got = download_file(head, {"txn", "", ""}, path, std::chrono::milliseconds(1000));
  BOOST_TEST_REQUIRE(std::holds_alternative<transfer_failure>(got));
  BOOST_TEST(std::get<transfer_failure>(got).message.find("do not match") != std::string::npos);
  BOOST_TEST(fs::is_empty(dir.path));

  served = bytes;
  got = download_file(head, {"txn", "", ""}, path, std::chrono::milliseconds(1000));
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(got));
  std::ifstream in(path, std::ios::binary);
  BOOST_TEST(std::string(std::istreambuf_iterator<char>(in), {}) == bytes);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::artifacts
