// A head whose store fails, stalls, recovers or loses its data, with real daemons on
// loopback. Memory and the store must agree once the store is back, and a lost store must
// stop the head instead of being taken for an empty one.
//
// PostgreSQL outages are made on the server that tools/test.sh starts
// (TROUPE_TEST_POSTGRES_URL), without disturbing anyone else on it: each test has a role
// and a schema of its own; an outage is that role losing LOGIN with its connections
// terminated, a stall is the test holding an exclusive lock on the head's table.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <pqxx/pqxx>
#include <thread>

#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe::local;
namespace fs = std::filesystem;

namespace {

std::string server_url() {
  const char* url = std::getenv("TROUPE_TEST_POSTGRES_URL");
  if (!url || !*url)
    BOOST_FAIL(
        "TROUPE_TEST_POSTGRES_URL is not set: run these tests with tools/test.sh, which "
        "starts a throwaway PostgreSQL server (e.g. tools/test.sh -R store_failure)");
  return url;
}

std::string with_parameters(const std::string& url, const std::string& parameters) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + parameters;
}

// A role and a schema of the test's own on the test server, dropped afterwards.
class private_database {
 public:
  private_database()
      : server_(server_url()),
        role_("troupe_outage_" + std::to_string(::getpid()) + "_" + std::to_string(++count_)) {
    admin_ = std::make_unique<pqxx::connection>(with_parameters(server_, "connect_timeout=2"));
    admin("SET client_min_messages TO WARNING");
    admin("CREATE ROLE " + role_ + " LOGIN");
    admin("CREATE SCHEMA " + role_ + " AUTHORIZATION " + role_);
  }
  ~private_database() {
    try {
      admin("ALTER ROLE " + role_ + " NOLOGIN");
      drop_connections();
      admin("DROP SCHEMA IF EXISTS " + role_ + " CASCADE");
      admin("DROP ROLE IF EXISTS " + role_);
    } catch (const std::exception& e) {
      BOOST_TEST_MESSAGE("could not drop role " << role_ << ": " << e.what());
    }
  }

  // The head's --store: the role's own schema (its name is the role's, first in its
  // search_path).
  std::string url() const { return with_parameters(server_, "user=" + role_); }

  // The store is down for the head: it cannot connect, and its connections are cut.
  void go_down() {
    admin("ALTER ROLE " + role_ + " NOLOGIN");
    drop_connections();
  }
  void come_back() { admin("ALTER ROLE " + role_ + " LOGIN"); }

  // Holds an exclusive lock on the nodes table until release(): every store call waits.
  void lock_nodes() {
    lock_ = std::make_unique<pqxx::work>(*admin_);
    lock_->exec0("LOCK TABLE " + role_ + ".nodes IN ACCESS EXCLUSIVE MODE");
  }
  void release() {
    lock_->commit();
    lock_.reset();
  }

  // node name -> "state" or "state,draining" (when the drain flag is set), as stored.
  std::map<std::string, std::string> stored() {
    std::map<std::string, std::string> rows;
    pqxx::work tx(*admin_);
    for (const auto& row : tx.exec("SELECT name, state, draining FROM " + role_ + ".nodes"))
      rows[row[0].as<std::string>()] =
          row[1].as<std::string>() + (row[2].as<bool>() ? ",draining" : "");
    return rows;
  }
  // Waits (at most 20 s) until the node's stored row reads `expected`.
  bool wait_for_stored(const std::string& name, const std::string& expected) {
    return wait_until([&] { return stored()[name] == expected; }, 20s);
  }

 private:
  void admin(const std::string& sql) {
    pqxx::nontransaction tx(*admin_);
    tx.exec(sql);
  }
  void drop_connections() {
    admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role_ + "'");
  }

  static inline int count_ = 0;
  std::string server_;
  std::string role_;
  std::unique_ptr<pqxx::connection> admin_;
  std::unique_ptr<pqxx::work> lock_;
};

// A head on a PostgreSQL store of its own, without a node agent, and node-1, alive.
struct head_on_postgres {
  private_database db;
  cluster c;
  head_on_postgres() {
    c.start_head({"--no-worker", "--store", db.url()});
    c.start_node("node-1");
    BOOST_TEST_REQUIRE(c.wait_for_state("node-1", "alive"), c.dump_logs());
    BOOST_TEST_REQUIRE(db.wait_for_stored("node-1", "alive"), c.dump_logs());
  }
  void restart_head() {
    c.head().signal(SIGTERM);
    BOOST_TEST_REQUIRE(c.head().wait_exit(10s) == 0, c.dump_logs());
    c.restart_head({"--no-worker", "--store", db.url()});
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(store_outage)

BOOST_FIXTURE_TEST_CASE(a_node_joining_while_the_store_is_down_stays_alive_with_its_incarnation,
                        head_on_postgres) {
  db.go_down();
  c.start_node("node-2");
  BOOST_TEST_REQUIRE(c.wait_for_state("node-2", "alive"), c.dump_logs());
  // Long enough for the failure detector to declare a node that never heartbeats dead
  // (about 1.5 s), several times over.
  std::this_thread::sleep_for(5s);
  auto nodes = c.nodes();
  BOOST_TEST(nodes["node-2"]["state"] == "alive", c.dump_logs());
  BOOST_TEST(nodes["node-2"]["incarnation"] == 1, c.dump_logs());
  BOOST_TEST(c.head().log().find("-> dead") == std::string::npos, c.head().log());
  db.come_back();
  BOOST_TEST(db.wait_for_stored("node-2", "alive"), c.dump_logs());
  BOOST_TEST(c.nodes()["node-2"]["incarnation"] == 1);
}

BOOST_FIXTURE_TEST_CASE(a_node_that_leaves_while_the_store_is_down_is_stored_as_left,
                        head_on_postgres) {
  db.go_down();
  c.node("node-1").signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.node("node-1").wait_exit(10s) == 0);
  BOOST_TEST_REQUIRE(c.wait_for_state("node-1", "left", 5s), c.dump_logs());
  BOOST_TEST(db.stored()["node-1"] == "alive", "the store is down: nothing landed yet");
  db.come_back();
  BOOST_TEST_REQUIRE(db.wait_for_stored("node-1", "left"), c.dump_logs());
  restart_head();
  BOOST_TEST(c.nodes()["node-1"]["state"] == "left", c.dump_logs());
}

BOOST_FIXTURE_TEST_CASE(a_drain_while_the_store_is_down_is_kept_and_stored_once_it_recovers,
                        head_on_postgres) {
  db.go_down();
  auto drained = c.troupe({"drain", "node-1"});
  BOOST_TEST(drained.exit_code != 0, "the drain is not stored yet");
  BOOST_TEST(drained.err.find("will be stored once the store recovers") != std::string::npos,
             drained.err);
  BOOST_TEST(c.nodes()["node-1"]["state"] == "draining", "the drain is made, not undone");
  db.come_back();
  BOOST_TEST_REQUIRE(db.wait_for_stored("node-1", "alive,draining"), c.dump_logs());
  restart_head();
  BOOST_TEST(c.wait_for_state("node-1", "draining", 10s), c.dump_logs());
}

BOOST_FIXTURE_TEST_CASE(a_drain_that_outlasts_every_deadline_in_a_stalled_store_is_not_undone,
                        head_on_postgres) {
  db.lock_nodes();
  // The CLI gives up after 2 s; the store holds the write for as long as the lock.
  auto drained = c.troupe({"drain", "node-1"});
  BOOST_TEST(drained.exit_code != 0);
  std::this_thread::sleep_for(6s);  // past the 5 s after which the head used to undo it
  BOOST_TEST(c.nodes()["node-1"]["state"] == "draining", c.dump_logs());
  db.release();
  BOOST_TEST_REQUIRE(db.wait_for_stored("node-1", "alive,draining"), c.dump_logs());
  BOOST_TEST(c.nodes()["node-1"]["state"] == "draining", "memory and the store agree");
  restart_head();
  BOOST_TEST(c.wait_for_state("node-1", "draining", 10s), c.dump_logs());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store_lost)

BOOST_AUTO_TEST_CASE(a_head_refuses_to_start_on_a_store_file_truncated_to_nothing) {
  cluster c;
  c.start_head();
  BOOST_TEST_REQUIRE(c.wait_for_state("head", "alive"), c.dump_logs());
  c.head().signal(SIGTERM);
  BOOST_TEST_REQUIRE(c.head().wait_exit(10s) == 0);
  const auto file = c.root() + "/head/troupe.db";
  BOOST_TEST_REQUIRE(fs::exists(file));
  fs::resize_file(file, 0);
  troupe::local::daemon again("head", {"--head", "--listen", "tcp://127.0.0.1:0", "--name", "head"},
                              c.root() + "/head", c.root() + "/head-again.log");
  again.start();
  const int code = again.wait_exit(15s);
  BOOST_TEST(code != 0, again.log());
  BOOST_TEST(code != -1, "the head must exit, not run on");
  BOOST_TEST(again.log().find("the file is empty") != std::string::npos, again.log());
  BOOST_TEST(fs::file_size(file) == 0u, "the lost store is left as it was found");
}

BOOST_AUTO_TEST_CASE(a_head_whose_store_file_is_deleted_stops_with_an_error) {
  cluster c;
  c.start_head();
  BOOST_TEST_REQUIRE(c.wait_for_state("head", "alive"), c.dump_logs());
  fs::remove(c.root() + "/head/troupe.db");
  BOOST_TEST(c.head().wait_exit(15s) == 1, c.dump_logs());
  BOOST_TEST(c.head().log().find("is gone") != std::string::npos, c.head().log());
}

BOOST_AUTO_TEST_CASE(a_head_whose_store_file_is_truncated_stops_with_an_error) {
  cluster c;
  c.start_head();
  BOOST_TEST_REQUIRE(c.wait_for_state("head", "alive"), c.dump_logs());
  fs::resize_file(c.root() + "/head/troupe.db", 0);
  BOOST_TEST(c.head().wait_exit(15s) == 1, c.dump_logs());
  BOOST_TEST(c.head().log().find("truncated") != std::string::npos, c.head().log());
}

BOOST_AUTO_TEST_SUITE_END()
