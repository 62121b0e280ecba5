// The head's blob store and the client's transfers on their own (no daemons): blobs are
// published only with matching bytes, every read is checked block by block, leftovers of a
// dead process are removed, removed and unreferenced blobs go, and a download keeps a window of
// chunks in flight, asks again for the ones whose reply is lost, fetches a byte range alone, and
// keeps nothing when its bytes do not match their digest; an upload resumes from what the head
// has. A node's cache: artifact_cache_test.cpp; assembly: dataset_assembly_test.cpp.
#define BOOST_TEST_MODULE artifact_files_test
#include <boost/test/unit_test.hpp>

#include <sodium/crypto_hash_sha256.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "cluster/artifacts/artifact_transfer.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "messages/print.hpp"
#include "tests/unit/cluster/artifact_test_support.hpp"

namespace troupe::artifacts {
namespace {

using namespace test;

// 1000 random bytes from `seed`, stored as a blob; returns them.
std::string stored_blob(const blob_store& blobs, unsigned seed) {
  auto bytes = random_bytes(1000, seed);
  BOOST_TEST_REQUIRE(!store_blob(blobs, bytes, sha256_hex(bytes)));
  return bytes;
}

// Answers chunks of `info` from `bytes` (which may differ from what `info` says), at most
// `most` bytes a chunk.
fake_link::answer_fn serving(const msg::artifact_info& info, const std::string& bytes,
                             uint32_t most) {
  return [&info, &bytes, most](const msg::artifacts_message& m) {
    const auto& r = std::get<msg::download_chunk_request>(m.body);
    return msg::artifacts_message{msg::download_chunk_reply{
        info, r.offset, bytes.substr(r.offset, std::min(r.max_bytes, most))}};
  };
}

// The dataset "txn" of `bytes`, as the head describes it.
msg::artifact_info txn_info(const std::string& bytes) {
  return {"txn", "default", msg::artifact_kind::dataset, sha256_hex(bytes), bytes.size(), 1, ""};
}

// Downloads "txn" from `head` into DIR/txn.csv.
transfer_result<msg::artifact_info> download_txn(fake_link& head, const temp_dir& dir,
                                                 const progress_fn& progress = {}) {
  return download_file(head.link(), {"txn", "", ""}, dir.path + "/txn.csv",
                       std::chrono::milliseconds(1000), progress);
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

// Digests name every stored artifact: they must stay the standard SHA-256 whatever computes them.
BOOST_AUTO_TEST_CASE(digests_are_the_standard_sha256_however_the_bytes_are_fed) {
  BOOST_TEST(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(sha256_hex("abc") ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto bytes = random_bytes(1'000'003, 11);
  std::string reference(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(reference.data()),
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  sha256 pieces;
  for (size_t at = 0, piece = 1; at < bytes.size(); at += piece, piece = piece * 3 + 1)
    pieces.update(std::string_view(bytes).substr(at, piece));
  BOOST_TEST((pieces.raw_digest() == reference));
  BOOST_TEST((sha256_raw(bytes) == reference));
}

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

// A store of before block_checksum: the SHA-256 of each block in <digest>.blocks.
BOOST_AUTO_TEST_CASE(blobs_with_sha256_block_checksums_get_new_ones_and_damage_stays_refused) {
  temp_dir dir;
  const auto whole = random_bytes(2 * block_bytes + 100, 9), damaged = random_bytes(1000, 10);
  {
    blob_store blobs(dir.path);
    for (const auto& bytes : {whole, damaged}) {
      BOOST_TEST_REQUIRE(!store_blob(blobs, bytes, sha256_hex(bytes)));
      const auto digest = sha256_hex(bytes);
      std::string legacy;
      for (uint64_t at = 0; at < bytes.size(); at += block_bytes)
        legacy += sha256_raw(std::string_view(bytes).substr(at, block_bytes));
      fs::remove(blobs.sums_path(digest));
      std::ofstream(blobs.blob_path(digest) + ".blocks", std::ios::binary) << legacy;
    }
    flip_byte(blobs.blob_path(sha256_hex(damaged)), 7);
    // Old checksums whose bytes had already gone.
    std::ofstream(blobs.blob_path(std::string(64, 'e')) + ".blocks") << "sums";
  }
  blob_store blobs(dir.path);
  BOOST_TEST(blobs.converted_at_start() == 2u);
  BOOST_TEST(read_all(blobs, sha256_hex(whole), whole.size()) == whole);
  const auto refused = blobs.read(sha256_hex(damaged), damaged.size(), 0, 10);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(refused));
  BOOST_TEST(std::get<msg::error>(refused).message.find("damaged") != std::string::npos);
  for (const auto& entry : fs::directory_iterator(dir.path + "/blobs"))
    BOOST_TEST(entry.path().extension() != ".blocks", entry.path());
  BOOST_TEST(fs::is_empty(dir.path + "/uploads"));
  BOOST_TEST(blob_store(dir.path).converted_at_start() == 0u);
}

BOOST_AUTO_TEST_CASE(a_removed_blob_is_gone_with_its_checksums_and_others_stay) {
  temp_dir dir;
  blob_store blobs(dir.path);
  const auto gone = stored_blob(blobs, 5), kept = stored_blob(blobs, 6);
  BOOST_TEST(!blobs.remove(sha256_hex(gone)));
  BOOST_TEST(!fs::exists(blobs.blob_path(sha256_hex(gone))));
  BOOST_TEST(!fs::exists(blobs.sums_path(sha256_hex(gone))));
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
  std::ofstream(blobs.sums_path(half_gone)) << "sums";
  BOOST_TEST(blobs.sweep({sha256_hex(kept)}) == 2u);
  BOOST_TEST(!fs::exists(blobs.blob_path(sha256_hex(orphan))));
  BOOST_TEST(!fs::exists(blobs.sums_path(half_gone)));
  BOOST_TEST(read_all(blobs, sha256_hex(kept), kept.size()) == kept);
  BOOST_TEST(blobs.sweep({sha256_hex(kept)}) == 0u);
}

BOOST_AUTO_TEST_CASE(a_download_whose_bytes_do_not_match_their_digest_keeps_nothing) {
  temp_dir dir;
  const auto bytes = random_bytes(3'000'000, 4);
  // A head that serves the bytes with one of them changed, under the true digest.
  auto served = bytes;
  served[2'600'000] ^= 1;
  const auto info = txn_info(bytes);
  fake_link head{serving(info, served, 512 * 1024)};
  auto got = download_txn(head, dir);
  BOOST_TEST_REQUIRE(std::holds_alternative<transfer_failure>(got));
  BOOST_TEST(std::get<transfer_failure>(got).message.find("do not match") != std::string::npos);
  BOOST_TEST(fs::is_empty(dir.path));

  served = bytes;
  got = download_txn(head, dir);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(got));
  BOOST_TEST(read_text(dir.path + "/txn.csv") == bytes);
}

BOOST_AUTO_TEST_CASE(a_download_keeps_a_window_of_chunks_in_flight_and_writes_the_bytes_in_order) {
  temp_dir dir;
  // Not a whole number of chunks.
  const auto bytes = random_bytes(6'000'001, 5);
  const auto info = txn_info(bytes);
  // A head whose chunks are smaller than the ones asked for.
  fake_link head{serving(info, bytes, 300'000)};
  std::vector<uint64_t> progress;
  auto got = download_txn(head, dir, [&](uint64_t done, uint64_t) { progress.push_back(done); });
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(got));
  BOOST_TEST(read_text(dir.path + "/txn.csv") == bytes);
  BOOST_TEST(head.most_in_flight > 1u);
  BOOST_TEST(head.most_in_flight == chunks_in_flight);
  BOOST_TEST(head.sent == 21u);  // one chunk per 300,000 bytes, each asked for once
  BOOST_TEST(progress.size() == 21u);
  BOOST_TEST(std::is_sorted(progress.begin(), progress.end()));
  BOOST_TEST(head.in_flight.empty());
}

BOOST_AUTO_TEST_CASE(a_chunk_whose_reply_is_lost_is_asked_for_again_and_the_bytes_stay_in_order) {
  temp_dir dir;
  const auto bytes = random_bytes(3'000'000, 6);
  const auto info = txn_info(bytes);
  fake_link head{serving(info, bytes, 512 * 1024)};
  head.lost = {2, 3, 6};  // two replies inside the window, then chunk 2's second try
  auto got = download_txn(head, dir);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(got));
  BOOST_TEST(read_text(dir.path + "/txn.csv") == bytes);
  BOOST_TEST(head.sent == 6u + 3u);
  BOOST_TEST(head.in_flight.empty());
}

BOOST_AUTO_TEST_CASE(a_byte_range_download_writes_those_bytes_alone_cut_at_the_end) {
  temp_dir dir;
  const auto bytes = random_bytes(3'000'000, 9);
  const auto info = txn_info(bytes);
  fake_link head{serving(info, bytes, 300'000)};
  const auto range = [&](uint64_t offset, uint64_t length) {
    return download_file(head.link(), {"txn", "", "", offset, length}, dir.path + "/range",
                         std::chrono::milliseconds(1000));
  };
  auto got = range(1'000'003, 1'234'567);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(got));
  BOOST_TEST(std::get<msg::artifact_info>(got).size == bytes.size());  // the whole's
  BOOST_TEST(read_text(dir.path + "/range") == bytes.substr(1'000'003, 1'234'567));
  BOOST_TEST(head.sent == 5u);  // 1,234,567 bytes in chunks of 300,000
  // Past the end: cut there.
  got = range(2'999'990, 1'000'000);
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(got));
  BOOST_TEST(read_text(dir.path + "/range") == bytes.substr(2'999'990));
  BOOST_TEST(head.in_flight.empty());
}

BOOST_AUTO_TEST_CASE(a_head_that_stops_answering_fails_the_download_and_leaves_nothing_in_flight) {
  temp_dir dir;
  const auto bytes = random_bytes(3'000'000, 7);
  const auto info = txn_info(bytes);
  fake_link head{serving(info, bytes, 512 * 1024)};
  for (uint64_t n = 1; n < 100; ++n) head.lost.insert(n);  // every reply after the first
  auto got = download_txn(head, dir);
  BOOST_TEST_REQUIRE(std::holds_alternative<transfer_failure>(got));
  BOOST_TEST((std::get<transfer_failure>(got).kind == transfer_failure::kind::no_answer));
  BOOST_TEST(head.in_flight.empty());  // the window's other replies are no longer awaited
  BOOST_TEST(fs::is_empty(dir.path));
}

// A head taking one upload into memory as the artifact service does: chunks in order, a resent
// one idempotent, one past the bytes it has refused as a conflict; begun again, it resumes.
struct upload_head {
  static constexpr uint32_t chunk_bytes = 256 * 1024;
  std::string received;
  std::string declared_digest;
  fake_link head;

  artifact_link link() {
    head.answer = [this](const msg::artifacts_message& m) -> msg::body {
      if (const auto* b = std::get_if<msg::begin_upload_request>(&m.body)) {
        declared_digest = b->digest;
        return msg::artifacts_message{
            msg::begin_upload_reply{"0123", received.size(), chunk_bytes}};
      }
      if (const auto* c = std::get_if<msg::upload_chunk_request>(&m.body)) {
        if (c->offset > received.size())
          return msg::error{msg::error_code::conflict, "offset: past the bytes received"};
        received += c->data.substr(received.size() - c->offset);
        return msg::artifacts_message{msg::upload_chunk_reply{received.size()}};
      }
      if (sha256_hex(received) != declared_digest)
        return msg::error{msg::error_code::invalid_request, "digest mismatch"};
      return msg::artifacts_message{msg::commit_upload_reply{msg::artifact_info{
          "txn", "default", msg::artifact_kind::dataset, declared_digest, received.size(), 1, ""}}};
    };
    return head.link();
  }
};

// An upload of `bytes`, written to `path` first, as the dataset "txn".
upload_spec upload_of(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return {path, "txn", "", msg::artifact_kind::dataset, ""};
}

BOOST_AUTO_TEST_CASE(an_upload_keeps_a_window_of_chunks_in_flight_and_the_head_gets_the_bytes) {
  temp_dir dir;
  const auto bytes = random_bytes(3'000'001, 8);
  upload_head head;
  auto stored = upload_file(head.link(), upload_of(dir.path + "/txn.csv", bytes),
                            std::chrono::milliseconds(1000));
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(stored));
  BOOST_TEST(head.received == bytes);
  BOOST_TEST(head.head.most_in_flight > 1u);
  BOOST_TEST(head.head.most_in_flight == chunks_in_flight);
  BOOST_TEST(head.head.sent == 1u + 12u + 1u);  // begin, 12 chunks of 256 KiB, commit
}

BOOST_AUTO_TEST_CASE(a_lost_chunk_makes_the_upload_resume_from_the_bytes_the_head_has) {
  temp_dir dir;
  const auto bytes = random_bytes(3'000'001, 9);
  upload_head head;
  // The third chunk never arrives: the five after it are refused, the upload begun again.
  head.head.lost = {3};
  auto stored = upload_file(head.link(), upload_of(dir.path + "/txn.csv", bytes),
                            std::chrono::milliseconds(1000));
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifact_info>(stored));
  BOOST_TEST(head.received == bytes);
  BOOST_TEST(head.head.in_flight.empty());
  // A head that never takes a chunk: the upload gives up after its tries.
  upload_head deaf;
  for (uint64_t n = 1; n < 100; ++n)
    if (n % 9 != 0) deaf.head.lost.insert(n);  // every chunk; the begins (0, 9, 18) answered
  auto refused = upload_file(deaf.link(), upload_of(dir.path + "/txn.csv", bytes),
                             std::chrono::milliseconds(1000));
  BOOST_TEST_REQUIRE(std::holds_alternative<transfer_failure>(refused));
  BOOST_TEST((std::get<transfer_failure>(refused).kind == transfer_failure::kind::no_answer));
  BOOST_TEST(deaf.received.empty());
  BOOST_TEST(deaf.head.in_flight.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::artifacts
