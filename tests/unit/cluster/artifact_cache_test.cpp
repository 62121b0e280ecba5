// A node's artifact cache on its own (no daemons), over a head serving from memory: it stays
// within its limit without deleting what a running attempt holds, takes stock of what a previous
// process left, and keeps byte ranges as copies of their own.
#define BOOST_TEST_MODULE artifact_cache_test
#include <boost/test/unit_test.hpp>

#include "cluster/artifacts/artifact_cache.hpp"
#include "tests/unit/cluster/artifact_test_support.hpp"

namespace troupe::artifacts {

using namespace test;

BOOST_AUTO_TEST_SUITE(node_artifact_cache)

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

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::artifacts
