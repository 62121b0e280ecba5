// The head's blob store and the client's download on their own (no daemons): blobs are
// published only with matching bytes, every read is checked block by block, leftovers of a
// dead process are removed, removed and unreferenced blobs go, a node's cache stays within its
// limit without deleting what a running attempt holds, and a download whose bytes do not
// match their digest keeps nothing.
#define BOOST_TEST_MODULE artifact_files_test
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "cluster/artifacts/artifact_cache.hpp"
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

// A head serving artifacts by name from memory, counting the downloads it serves.
struct memory_head {
  std::map<std::string, std::string> bytes_of;  // by name
  size_t chunks = 0;

  artifact_caller caller() {
    return [this](msg::artifacts_message m, std::chrono::milliseconds) {
      const auto& r = std::get<msg::download_chunk_request>(m.body);
      const auto& bytes = bytes_of.at(r.name);
      ++chunks;
      msg::artifact_info info{
          r.name, "default", msg::artifact_kind::dataset, sha256_hex(bytes), bytes.size(), 1, ""};
      return std::optional<msg::body>(msg::artifacts_message{
          msg::download_chunk_reply{info, r.offset, bytes.substr(r.offset, r.max_bytes)}});
    };
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
  artifact_cache cache(dir.path, head.caller(), wait, 2500);
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
  artifact_cache cache(dir.path, head.caller(), wait, 2500);
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
  artifact_cache cache(dir.path, head.caller(), wait, 2500);
  BOOST_TEST(cache.used_bytes() == 2000u);
  BOOST_TEST(!fs::exists(dir.path + "/" + head.digest("new") + ".part"));
  BOOST_TEST_REQUIRE(fetched(fetch(cache, "new", "k")));
  BOOST_TEST(!fs::exists(dir.path + "/" + head.digest("older")));
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("old")));
  // A smaller limit than what is there: the oldest go at once.
  cache.release_ended(every_holder_ended);
  artifact_cache smaller(dir.path, head.caller(), wait, 1500);
  BOOST_TEST(smaller.used_bytes() == 1000u);
  BOOST_TEST(fs::exists(dir.path + "/" + head.digest("new")));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::artifacts
