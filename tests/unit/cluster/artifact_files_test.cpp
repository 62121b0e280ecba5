// The head's blob store and the client's download on their own (no daemons): blobs are
// published only with matching bytes, every read is checked block by block, leftovers of a
// dead process are removed, removed and unreferenced blobs go, a node's cache stays within its
// limit without deleting what a running attempt holds, and a download keeps a window of chunks
// in flight, asks again for the ones whose reply is lost, and keeps nothing when its bytes do
// not match their digest.
#define BOOST_TEST_MODULE artifact_files_test
#include <boost/test/unit_test.hpp>

#include <sodium/crypto_hash_sha256.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "cluster/artifacts/artifact_cache.hpp"
#include "cluster/artifacts/artifact_transfer.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "cluster/artifacts/dataset_assembly.hpp"
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

// A head behind a link: `answer` replies to each request when it is awaited, but the requests
// numbered in `lost` (in the order they were sent, from 0) are never answered. It counts the
// most requests in flight at once.
struct fake_link {
  using answer_fn = std::function<msg::body(const msg::artifacts_message&)>;
  explicit fake_link(answer_fn a = {}) : answer(std::move(a)) {}

  answer_fn answer;
  std::set<uint64_t> lost;
  std::map<uint64_t, msg::artifacts_message> in_flight;  // by ticket
  uint64_t sent = 0;
  size_t most_in_flight = 0;

  artifact_link link() {
    return {[this](msg::artifacts_message m) {
              in_flight.emplace(sent, std::move(m));
              most_in_flight = std::max(most_in_flight, in_flight.size());
              return sent++;
            },
            [this](uint64_t ticket, std::chrono::milliseconds) -> std::optional<msg::body> {
              auto it = in_flight.find(ticket);
              if (it == in_flight.end()) return std::nullopt;
              const auto request = std::move(it->second);
              in_flight.erase(it);
              if (lost.count(ticket)) return std::nullopt;
              return answer(request);
            }};
  }
};

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

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
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

// A head serving artifacts by name from memory, counting the downloads it serves.
struct memory_head {
  std::map<std::string, std::string> bytes_of;  // by name
  size_t chunks = 0;
  fake_link head;

  artifact_link link() {
    head.answer = [this](const msg::artifacts_message& m) -> msg::body {
      const auto& r = std::get<msg::download_chunk_request>(m.body);
      const auto& bytes = bytes_of.at(r.name);
      ++chunks;
      msg::artifact_info info{
          r.name, "default", msg::artifact_kind::dataset, sha256_hex(bytes), bytes.size(), 1, ""};
      return msg::artifacts_message{
          msg::download_chunk_reply{info, r.offset, bytes.substr(r.offset, r.max_bytes)}};
    };
    return head.link();
  }
  std::string digest(const std::string& name) const { return sha256_hex(bytes_of.at(name)); }
};

// `names` of 1000 bytes each.
memory_head head_with(std::initializer_list<const char*> names) {
  memory_head head;
  unsigned seed = 10;
  for (const auto* name : names) head.bytes_of[name] = random_bytes(1000, ++seed);
  return head;
}

transfer_result<cached_artifact> fetch(artifact_cache& cache, const std::string& name,
                                       const std::string& holder) {
  return cache.fetch({name, "default", ""}, holder);
}

bool fetched(const transfer_result<cached_artifact>& got) {
  return std::holds_alternative<cached_artifact>(got);
}

const auto every_holder_ended = [](const std::string&) { return true; };
constexpr std::chrono::milliseconds wait{1000};

BOOST_AUTO_TEST_CASE(the_least_recently_used_copy_goes_when_a_new_one_would_pass_the_limit) {
  temp_dir dir;
  auto head = head_with({"a", "b", "c"});
  artifact_cache cache(dir.path, head.link(), wait, 2500);
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "a", "k1")));
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "b", "k1")));
  cache.release_ended(every_holder_ended);
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "a", "k2")));  // a is now the more recent
  cache.release_ended(every_holder_ended);
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "c", "k3")));
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("a")));
  BOOST_TEST(!fs::exists(dir.path + "/" + head.digest("b")));
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("c")));
  BOOST_TEST(cache.used_bytes() == 2000u);
  BOOST_TEST(cache.reused() == 1u);
}

BOOST_AUTO_TEST_CASE(a_copy_a_running_attempt_holds_is_never_deleted) {
  temp_dir dir;
  auto head = head_with({"a", "b", "c", "d"});
  artifact_cache cache(dir.path, head.link(), wait, 2500);
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "a", "running")));
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "b", "ended")));
  cache.release_ended([](const std::string& holder) { return holder == "ended"; });
  // a is the least recently used, but held: b goes.
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "c", "running")));
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("a")));
  BOOST_TEST(!fs::exists(dir.path + "/" + head.digest("b")));
  // Every copy held and no room: refused, nothing deleted.
  const auto refused = fetch(cache, "d", "another");
  BOOST_TEST_REQUIRE(std::holds_alternative<transfer_failure>(refused));
  const auto& f = std::get<transfer_failure>(refused);
  BOOST_TEST(f.code == msg::error_code::overloaded);
  BOOST_TEST(f.message.find("artifact_cache_mb") != std::string::npos, f.message);
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("a")));
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("c")));
  BOOST_TEST(!fs::exists(dir.path + "/" + head.digest("d")));
  // Once the attempt ended its copies may go.
  cache.release_ended(every_holder_ended);
  BOOST_TEST(fetched(fetch(cache, "d", "another")));
  BOOST_TEST(cache.used_bytes() == 2000u);
}

BOOST_AUTO_TEST_CASE(copies_a_previous_process_left_count_and_go_first_with_its_leftovers) {
  temp_dir dir;
  auto head = head_with({"old", "older", "new"});
  for (const char* name : {"older", "old"}) {
    std::ofstream(dir.path + "/" + head.digest(name), std::ios::binary) << head.bytes_of[name];
    fs::last_write_time(dir.path + "/" + head.digest(name),
                        fs::file_time_type::clock::now() -
                            std::chrono::hours(std::string(name) == "older" ? 2 : 1));
  }
  std::ofstream(dir.path + "/" + head.digest("new") + ".part") << "a download that died";
  artifact_cache cache(dir.path, head.link(), wait, 2500);
  BOOST_TEST(cache.used_bytes() == 2000u);
  BOOST_TEST(!fs::exists(dir.path + "/" + head.digest("new") + ".part"));
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "new", "k")));
  BOOST_TEST(!fs::exists(dir.path + "/" + head.digest("older")));
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("old")));
  // A smaller limit than what is there: the oldest go at once.
  cache.release_ended(every_holder_ended);
  artifact_cache smaller(dir.path, head.link(), wait, 1500);
  BOOST_TEST(smaller.used_bytes() == 1000u);
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("new")));
}

BOOST_AUTO_TEST_CASE(a_byte_range_is_a_copy_of_its_own_held_counted_and_gone_with_the_process) {
  temp_dir dir;
  auto head = head_with({"a"});
  {
    artifact_cache cache(dir.path, head.link(), wait, 2500);
    const auto got = cache.fetch({"a", "default", "", 100, 300}, "k");
    BOOST_TEST_REQUIRE(fetched(got));
    const auto& copy = std::get<cached_artifact>(got);
    BOOST_TEST(copy.path == dir.path + "/" + head.digest("a") + ".100-400");
    BOOST_TEST(read_text(copy.path) == head.bytes_of["a"].substr(100, 300));
    BOOST_TEST(copy.artifact.size == 1000u);
    BOOST_TEST(cache.used_bytes() == 300u);
    // Cut at the end; asked for again, fetched again.
    const auto tail = cache.fetch({"a", "default", "", 900, 5000}, "k");
    BOOST_TEST_REQUIRE(fetched(tail));
    BOOST_TEST(read_text(std::get<cached_artifact>(tail).path) == head.bytes_of["a"].substr(900));
    const auto chunks = head.chunks;
    BOOST_TEST_REQUIRE(fetched(cache.fetch({"a", "default", "", 900, 5000}, "k")));
    BOOST_TEST(head.chunks > chunks);
    BOOST_TEST(cache.used_bytes() == 400u);
    BOOST_TEST(cache.reused() == 0u);
    const auto at_end = cache.fetch({"a", "default", "", 1000, 10}, "k");
    BOOST_TEST_REQUIRE(fetched(at_end));
    BOOST_TEST(read_text(std::get<cached_artifact>(at_end).path).empty());
    BOOST_TEST(cache.used_bytes() == 400u);
    const auto refused = cache.fetch({"a", "default", "", 1001, 10}, "k");
    BOOST_TEST_REQUIRE(std::holds_alternative<transfer_failure>(refused));
    BOOST_TEST(std::get<transfer_failure>(refused).code == msg::error_code::invalid_request);
  }
  artifact_cache again(dir.path, head.link(), wait, 2500);
  BOOST_TEST(again.used_bytes() == 0u);
  BOOST_TEST(fs::is_empty(dir.path));
}

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
