// A node's rank keys and the credential files the runner hands its ranks
// (cluster/security/rank_keys.hpp, rank_link.hpp).
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "cluster/security/credentials.hpp"
#include "cluster/security/rank_link.hpp"
#include "messages/print.hpp"

using namespace troupe;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(rank_keys)

BOOST_AUTO_TEST_CASE(a_rank_key_is_admitted_with_role_rank_for_its_attempt_until_dropped) {
  security::rank_keys keys;
  const auto pair = keys.add({"j0000000000000001.0.1", "research", "/data/tasks/work/a"}, 5);
  const auto admitted = keys.admit(pair.public_key, 6);
  BOOST_TEST_REQUIRE(admitted.has_value());
  BOOST_TEST(admitted->role == msg::key_role::rank);
  const auto attempt = keys.attempt_of(admitted->key_id);
  BOOST_TEST_REQUIRE(attempt.has_value());
  BOOST_TEST(attempt->attempt_id == "j0000000000000001.0.1");
  BOOST_TEST(attempt->tenant == "research");
  BOOST_TEST(attempt->workdir == "/data/tasks/work/a");
  keys.drop("j0000000000000001.0.1");
  BOOST_TEST(!keys.admit(pair.public_key, 7).has_value());
  BOOST_TEST(!keys.attempt_of(admitted->key_id).has_value());
}

BOOST_AUTO_TEST_CASE(a_new_key_for_an_attempt_replaces_its_old_one) {
  security::rank_keys keys;
  const auto first = keys.add({"j0000000000000001.0.1", "default", "/w"}, 5);
  const auto second = keys.add({"j0000000000000001.0.1", "default", "/w"}, 6);
  BOOST_TEST(!keys.admit(first.public_key, 7).has_value());
  BOOST_TEST(keys.admit(second.public_key, 7).has_value());
}

BOOST_AUTO_TEST_CASE(an_issued_credential_file_is_private_and_gone_once_revoked) {
  char tmpl[] = "/tmp/troupe-rank-keys-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  auto keys = std::make_shared<security::rank_keys>();
  const auto node = security::generate_key_pair();
  const auto ranks = (dir / "ranks").string();
  security::rank_link_issuer issuer(keys, ranks, security::rank_link_endpoint(ranks),
                                    node.public_key);
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(ranks.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0700u);
  const auto path = issuer.issue({"j0000000000000001.1.2", "default", "/w"});
  const auto c = security::load_credential(path);  // refuses a file others may read
  BOOST_TEST(c.role == msg::key_role::rank);
  BOOST_TEST(c.head_public_key == node.public_key);
  BOOST_TEST(c.head_address == "ipc://" + ranks + "/link.sock");
  BOOST_TEST(keys->admit(c.keys.public_key, 1).has_value());
  issuer.revoke("j0000000000000001.1.2");
  BOOST_TEST(!fs::exists(path));
  BOOST_TEST(!keys->admit(c.keys.public_key, 1).has_value());
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
