// The artifact store end to end with real daemons on loopback: a head without a node agent and
// one node. Files go up through the CLI (and a raw client), are listed, come back through the
// CLI and through a node's cache with the node's own key; damaged blobs, mismatched digests,
// other tenants, dead uploaders and oversized files are refused; resent chunks and resumed
// uploads add nothing twice; a restarted head sweeps blobs no version refers to
// (docs/artifacts.md).
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "cluster/artifacts/artifact_cache.hpp"
#include "cluster/artifacts/digest.hpp"
#include "cluster/security/credentials.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/print.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;
using namespace troupe::local;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t size_limit = 4 << 20;
constexpr uint32_t idle_ms = 2000;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `size` bytes from a seeded generator (the seed is in the test's name for replay).
std::string random_bytes(size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (auto& b : bytes) b = static_cast<char>(random());
  return bytes;
}

// Why a transfer failed; empty when it did not.
template <class T>
std::string failure_of(const artifacts::transfer_result<T>& result) {
  const auto* f = std::get_if<artifacts::transfer_failure>(&result);
  return f ? f->message : "";
}

size_t files_in(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it) ++n;
  return n;
}

// A head with small artifact limits (no node agent) and node-1.
struct artifact_cluster {
  cluster c;
  const std::vector<std::string> head_args{"--no-worker", "--artifact-max-bytes",
                                           std::to_string(size_limit), "--artifact-upload-idle-ms",
                                           std::to_string(idle_ms)};
  artifact_cluster() {
    c.start_head(head_args);
    c.start_node("node-1", {"--cpus", "1", "--gpus", "0"});
    BOOST_TEST_REQUIRE(c.wait_for_alive_count(1), c.dump_logs());
  }

  std::string file_with(const std::string& name, const std::string& bytes) const {
    const auto path = c.root() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // The node's own key, as its agent would use it.
  transport::curve_keys node_keys() {
    return security::client_keys(
        security::load_credential(c.node("node-1").data_dir() + "/node.key"));
  }

  std::string artifacts_dir() { return c.head().data_dir() + "/artifacts"; }

  // `troupe` with another credential file.
  command_result troupe_as(const std::string& credentials, std::vector<std::string> args) const {
    std::vector<std::string> argv{binary("troupe"), "--head",       c.endpoint(), "--credentials",
                                  credentials,      "--timeout-ms", "5000"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  std::string submit_credentials(const std::string& tenant) const {
    const auto path = c.root() + "/" + tenant + ".credentials";
    auto created =
        c.troupe({"credentials", "create", "--role", "submit", "--tenant", tenant, "--out", path});
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    return path;
  }

  // Puts `bytes` as `name` through the CLI; returns the digest it printed.
  std::string put(const std::string& name, const std::string& bytes) const {
    auto put = c.troupe({"data", "put", file_with(name + ".bin", bytes), "--name", name});
    BOOST_TEST_REQUIRE(put.exit_code == 0, put.err + c.dump_logs());
    return put.out.substr(0, 64);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(artifacts_end_to_end)

BOOST_FIXTURE_TEST_CASE(a_file_put_through_the_cli_is_listed_and_a_node_fetches_identical_bytes,
                        artifact_cluster) {
  // Not a whole number of chunks or checksum blocks.
  const auto bytes = random_bytes(1'300'001, 1);
  const auto digest = put("txn-train", bytes);
  BOOST_TEST(digest == artifacts::sha256_hex(bytes));

  auto ls = c.troupe({"--json", "data", "ls"});
  BOOST_TEST_REQUIRE(ls.exit_code == 0, ls.err);
  const auto listed = json::parse(ls.out);
  BOOST_TEST_REQUIRE(listed.size() == 1u, ls.out);
  BOOST_TEST(listed[0]["name"] == "txn-train");
  BOOST_TEST(listed[0]["sha256"] == digest);
  BOOST_TEST(listed[0]["size"] == bytes.size());
  BOOST_TEST(listed[0]["kind"] == "dataset");

  transport::request_client client(c.endpoint(), "node-1", node_keys());
  artifacts::artifact_cache cache(c.root() + "/node-cache", artifacts::link_over(client),
                                  std::chrono::milliseconds(5000), uint64_t{1} << 30);
  auto fetched = cache.fetch({"", "", digest}, "a rank key");
  BOOST_TEST_REQUIRE(failure_of(fetched).empty(), failure_of(fetched));
  BOOST_TEST(read_text(std::get<artifacts::cached_artifact>(fetched).path) == bytes);
  auto by_name = cache.fetch({"txn-train", "default", ""}, "a rank key");
  BOOST_TEST_REQUIRE(failure_of(by_name).empty(), failure_of(by_name));
  BOOST_TEST(std::get<artifacts::cached_artifact>(by_name).artifact.digest == digest);
  BOOST_TEST(cache.reused() == 1u);

  const auto out = c.root() + "/got.bin";
  auto get = c.troupe({"data", "get", "txn-train", out});
  BOOST_TEST_REQUIRE(get.exit_code == 0, get.err);
  BOOST_TEST(read_text(out) == bytes);
}

BOOST_FIXTURE_TEST_CASE(a_node_uploads_a_checkpoint_but_not_a_dataset, artifact_cluster) {
  transport::request_client client(c.endpoint(), "node-1", node_keys());
  artifacts::artifact_cache cache(c.root() + "/node-cache", artifacts::link_over(client),
                                  std::chrono::milliseconds(5000), uint64_t{1} << 30);
  const auto file = file_with("ckpt.bin", random_bytes(70'000, 2));
  auto up = cache.upload(
      {file, "txn-category/step-500", "ml", msg::artifact_kind::checkpoint, "j0123456789abcdef"});
  BOOST_TEST_REQUIRE(failure_of(up).empty(), failure_of(up));
  BOOST_TEST(std::get<msg::artifact_info>(up).job_id == "j0123456789abcdef");
  auto dataset = cache.upload({file, "sneaky", "ml", msg::artifact_kind::dataset, ""});
  BOOST_TEST(contains(failure_of(dataset), "permission_denied"), failure_of(dataset));
}

BOOST_FIXTURE_TEST_CASE(a_blob_damaged_on_the_heads_disk_is_refused_not_served, artifact_cluster) {
  const auto bytes = random_bytes(200'000, 3);
  const auto digest = put("damaged", bytes);
  {
    std::fstream blob(artifacts_dir() + "/blobs/" + digest,
                      std::ios::in | std::ios::out | std::ios::binary);
    blob.seekp(150'000);
    blob.put(static_cast<char>(bytes[150'000] ^ 0x01));
  }
  const auto out = c.root() + "/damaged.out";
  auto get = c.troupe({"data", "get", "damaged", out});
  BOOST_TEST(get.exit_code == 1, get.out + get.err);
  BOOST_TEST(contains(get.err, "damaged on the head"), get.err);
  BOOST_TEST(!fs::exists(out));
  BOOST_TEST(!fs::exists(out + ".part"));

  transport::request_client client(c.endpoint(), "node-1", node_keys());
  artifacts::artifact_cache cache(c.root() + "/node-cache", artifacts::link_over(client),
                                  std::chrono::milliseconds(5000), uint64_t{1} << 30);
  BOOST_TEST(std::holds_alternative<artifacts::transfer_failure>(
      cache.fetch({"", "", digest}, "a rank key")));
  BOOST_TEST(files_in(c.root() + "/node-cache") == 0u);
}

BOOST_FIXTURE_TEST_CASE(
    an_upload_whose_bytes_do_not_match_its_digest_is_refused_and_nothing_is_stored,
    artifact_cluster) {
  transport::request_client client(c.endpoint(), "test", c.admin_keys());
  const auto bytes = random_bytes(100'000, 4);
  auto call = [&](msg::artifacts_message m) {
    auto reply = client.call(std::move(m), std::chrono::milliseconds(5000));
    BOOST_TEST_REQUIRE(reply.has_value());
    return reply->body;
  };
  auto begun = call({msg::begin_upload_request{"liar", "", msg::artifact_kind::dataset,
                                               bytes.size(), artifacts::sha256_hex("other"), ""}});
  const auto id =
      std::get<msg::begin_upload_reply>(std::get<msg::artifacts_message>(begun).body).upload_id;
  auto sent = call({msg::upload_chunk_request{id, 0, bytes}});
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifacts_message>(sent));
  auto committed = call({msg::commit_upload_request{id}});
  const auto* refused = std::get_if<msg::error>(&committed);
  BOOST_TEST_REQUIRE(refused);
  BOOST_TEST(refused->code == msg::error_code::invalid_request);
  BOOST_TEST(contains(refused->message, "do not match"), refused->message);

  auto ls = c.troupe({"--json", "data", "ls", "--all"});
  BOOST_TEST(json::parse(ls.out).empty(), ls.out);
  BOOST_TEST(files_in(artifacts_dir() + "/blobs") == 0u);
  BOOST_TEST(files_in(artifacts_dir() + "/uploads") == 0u);
}

// What a crash between removing a version's row and its blob leaves (artifacts.md, Retention).
BOOST_FIXTURE_TEST_CASE(a_blob_no_stored_version_refers_to_is_deleted_when_the_head_starts,
                        artifact_cluster) {
  const auto bytes = random_bytes(100'000, 31);
  const auto digest = put("txn-train", bytes);
  const auto orphan = artifacts_dir() + "/blobs/" + std::string(64, 'e');
  std::ofstream(orphan) << "bytes whose row was removed";
  std::ofstream(orphan + ".sums") << "their checksums";
  c.head().signal(SIGKILL);
  BOOST_TEST_REQUIRE(c.head().wait_exit(5s) >= 0);
  c.restart_head(head_args);
  BOOST_TEST(wait_until([&] { return !fs::exists(orphan) && !fs::exists(orphan + ".sums"); }, 5s),
             c.dump_logs());
  BOOST_TEST(fs::exists(artifacts_dir() + "/blobs/" + digest));
  const auto out = c.root() + "/got.bin";
  auto get = c.troupe({"data", "get", "txn-train", out});
  BOOST_TEST_REQUIRE(get.exit_code == 0, get.err + c.dump_logs());
  BOOST_TEST(read_text(out) == bytes);
}

BOOST_FIXTURE_TEST_CASE(a_resent_chunk_and_a_resumed_upload_add_no_byte_twice, artifact_cluster) {
  transport::request_client client(c.endpoint(), "test", c.admin_keys());
  const auto bytes = random_bytes(250'000, 6);
  auto call = [&](msg::artifacts_message m) {
    auto reply = client.call(std::move(m), std::chrono::milliseconds(5000));
    BOOST_TEST_REQUIRE(reply.has_value());
    return reply->body;
  };
  auto received = [&](const msg::body& b) {
    return std::get<msg::upload_chunk_reply>(std::get<msg::artifacts_message>(b).body).received;
  };
  const msg::begin_upload_request begin{
      "resent", "", msg::artifact_kind::dataset, bytes.size(), artifacts::sha256_hex(bytes), ""};
  auto begun = call({begin});
  const auto id =
      std::get<msg::begin_upload_reply>(std::get<msg::artifacts_message>(begun).body).upload_id;
  BOOST_TEST(received(call({msg::upload_chunk_request{id, 0, bytes.substr(0, 100'000)}})) ==
             100'000u);
  // The same chunk again, as after a lost reply: nothing is added.
  BOOST_TEST(received(call({msg::upload_chunk_request{id, 0, bytes.substr(0, 100'000)}})) ==
             100'000u);
  // Beginning again resumes where the head is.
  auto resumed = call({begin});
  const auto& again =
      std::get<msg::begin_upload_reply>(std::get<msg::artifacts_message>(resumed).body);
  BOOST_TEST(again.upload_id == id);
  BOOST_TEST(again.offset == 100'000u);
  BOOST_TEST(received(call({msg::upload_chunk_request{id, 100'000, bytes.substr(100'000)}})) ==
             bytes.size());
  auto committed = call({msg::commit_upload_request{id}});
  BOOST_TEST_REQUIRE(std::holds_alternative<msg::artifacts_message>(committed));
  const auto out = c.root() + "/resent.bin";
  auto get = c.troupe({"data", "get", "resent", out});
  BOOST_TEST_REQUIRE(get.exit_code == 0, get.err);
  BOOST_TEST(read_text(out) == bytes);
}

BOOST_FIXTURE_TEST_CASE(a_submit_key_of_one_tenant_cannot_read_another_tenants_dataset,
                        artifact_cluster) {
  const auto alice = submit_credentials("alice");
  const auto bob = submit_credentials("bob");
  auto put =
      troupe_as(alice, {"data", "put", file_with("a.csv", "x,y\n1,2\n"), "--name", "shared"});
  BOOST_TEST_REQUIRE(put.exit_code == 0, put.err);

  const auto out = c.root() + "/stolen.csv";
  auto by_name = troupe_as(bob, {"data", "get", "shared", out});
  BOOST_TEST(by_name.exit_code == 1, by_name.err);
  BOOST_TEST(contains(by_name.err, "not_found"), by_name.err);
  auto by_tenant = troupe_as(bob, {"data", "get", "shared", out, "--tenant", "alice"});
  BOOST_TEST(by_tenant.exit_code == 1, by_tenant.err);
  BOOST_TEST(contains(by_tenant.err, "permission_denied"), by_tenant.err);
  auto by_digest = troupe_as(bob, {"data", "get", "shared@" + put.out.substr(0, 64), out});
  BOOST_TEST(by_digest.exit_code == 1, by_digest.err);
  BOOST_TEST(!fs::exists(out));
  auto ls = troupe_as(bob, {"--json", "data", "ls"});
  BOOST_TEST(json::parse(ls.out).empty(), ls.out);

  auto own = troupe_as(alice, {"data", "get", "shared", out});
  BOOST_TEST(own.exit_code == 0, own.err);
  auto checkpoint =
      troupe_as(bob, {"data", "put", file_with("c.bin", "c"), "--kind", "checkpoint"});
  BOOST_TEST(checkpoint.exit_code == 1);
  BOOST_TEST(contains(checkpoint.err, "may only upload datasets and models"), checkpoint.err);
}

BOOST_FIXTURE_TEST_CASE(a_dead_uploaders_partial_upload_is_cleaned_up, artifact_cluster) {
  std::string id;
  {
    transport::request_client client(c.endpoint(), "test", c.admin_keys());
    const auto bytes = random_bytes(300'000, 5);
    auto begun = client.call(msg::artifacts_message{msg::begin_upload_request{
                                 "abandoned", "", msg::artifact_kind::dataset, bytes.size(),
                                 artifacts::sha256_hex(bytes), ""}},
                             std::chrono::milliseconds(5000));
    BOOST_TEST_REQUIRE(begun.has_value());
    id = std::get<msg::begin_upload_reply>(std::get<msg::artifacts_message>(begun->body).body)
             .upload_id;
    auto sent = client.call(
        msg::artifacts_message{msg::upload_chunk_request{id, 0, bytes.substr(0, 100'000)}},
        std::chrono::milliseconds(5000));
    BOOST_TEST_REQUIRE(sent.has_value());
    BOOST_TEST(files_in(artifacts_dir() + "/uploads") > 0u);
  }  // the uploader goes away without a word
  BOOST_TEST(wait_until([&] { return files_in(artifacts_dir() + "/uploads") == 0; }, 15s),
             c.dump_logs());
  transport::request_client again(c.endpoint(), "test", c.admin_keys());
  auto late = again.call(msg::artifacts_message{msg::upload_chunk_request{id, 100'000, "x"}},
                         std::chrono::milliseconds(5000));
  BOOST_TEST_REQUIRE(late.has_value());
  const auto* gone = std::get_if<msg::error>(&late->body);
  BOOST_TEST_REQUIRE(gone);
  BOOST_TEST(gone->code == msg::error_code::not_found);
}

BOOST_FIXTURE_TEST_CASE(an_artifact_over_the_size_limit_is_refused_before_any_byte_is_sent,
                        artifact_cluster) {
  auto put = c.troupe(
      {"data", "put", file_with("big.bin", std::string(size_limit + 1, 'x')), "--name", "big"});
  BOOST_TEST(put.exit_code == 1, put.err);
  BOOST_TEST(contains(put.err, "exceeds the head's limit"), put.err);
  auto ls = c.troupe({"--json", "data", "ls"});
  BOOST_TEST(json::parse(ls.out).empty(), ls.out);
  BOOST_TEST(files_in(artifacts_dir() + "/uploads") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
