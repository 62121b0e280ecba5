// What the artifact tests share (artifact_files_test.cpp, artifact_cache_test.cpp,
// dataset_assembly_test.cpp): a temporary directory, random bytes, a blob stored in pieces and
// read back, and a head behind a fake link.
#pragma once

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>

#include "cluster/artifacts/artifact_transfer.hpp"
#include "cluster/artifacts/blob_store.hpp"
#include "messages/print.hpp"

namespace troupe::artifacts::test {

namespace fs = std::filesystem;

struct temp_dir {
  std::string path;
  temp_dir() {
    char pattern[] = "/tmp/troupe-artifacts-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~temp_dir() { fs::remove_all(path); }
};

inline std::string random_bytes(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (auto& b : bytes) b = static_cast<char>(random());
  return bytes;
}

// Uploads `bytes` in pieces of `piece` bytes and commits them as `digest`.
inline std::optional<msg::error> store_blob(const blob_store& blobs, const std::string& bytes,
                                            const std::string& digest, size_t piece = 10'000) {
  auto upload = blobs.begin("00ff");
  for (size_t at = 0; at < bytes.size(); at += piece)
    if (auto e = upload->append(std::string_view(bytes).substr(at, piece))) return e;
  return upload->commit(digest);
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

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The whole blob, read back (and checked) from the store.
inline std::string read_all(const blob_store& blobs, const std::string& digest, uint64_t size) {
  auto got = blobs.read(digest, size, 0, size);
  const auto* e = std::get_if<msg::error>(&got);
  BOOST_TEST_REQUIRE(!e, (e ? e->message : ""));
  return std::get<std::string>(got);
}

}  // namespace troupe::artifacts::test
