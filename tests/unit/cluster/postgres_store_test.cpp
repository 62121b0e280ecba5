// The store contract against PostgreSQL, plus what only the PostgreSQL backend has: a server
// that may be unreachable or drop the connection, and URLs that carry passwords.
//
// The server comes from TROUPE_TEST_POSTGRES_URL (tools/test.sh starts a throwaway one and
// sets it). Without it every test that needs a server fails: a missing server must never
// look like a pass. Each test works in a schema of its own, dropped afterwards.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>
#include <random>

#include "cluster/store/store.hpp"
#include "store_contract.hpp"

namespace troupe::store::test {
namespace {

std::string server_url() {
  const char* url = std::getenv("TROUPE_TEST_POSTGRES_URL");
  if (!url || !*url)
    BOOST_FAIL(
        "TROUPE_TEST_POSTGRES_URL is not set, so there is no PostgreSQL server to test "
        "against: run the tests with tools/test.sh, which starts a throwaway server and sets "
        "it (e.g. tools/test.sh -R store_test)");
  return url;
}

std::string with_parameters(const std::string& url, const std::string& parameters) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + parameters;
}

// A loopback TCP port that nothing listens on (bound, then released, by us).
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_TEST_REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  ::close(fd);
  BOOST_TEST_REQUIRE(ok);
  return ntohs(address.sin_port);
}

// A connection for the test's own statements, quiet about NOTICEs.
std::unique_ptr<pqxx::connection> admin_connection(const std::string& server) {
  auto c = std::make_unique<pqxx::connection>(with_parameters(server, "connect_timeout=2"));
  pqxx::nontransaction(*c).exec0("SET client_min_messages TO WARNING");
  return c;
}

class postgres_backend : public backend {
 public:
  postgres_backend() : server_(server_url()), schema_(unique_schema_name()) {
    admin_ = admin_connection(server_);
    admin("CREATE SCHEMA " + schema_);
  }
  ~postgres_backend() override {
    try {
      auto connection = admin_connection(server_);  // admin_ may be broken
      pqxx::work tx(*connection);
      tx.exec0("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
      tx.commit();
    } catch (const std::exception& e) {
      BOOST_TEST_MESSAGE("could not drop schema " << schema_ << ": " << e.what());
    }
  }

  // The schema is found through search_path; application_name lets a test find the store's
  // connections on the server.
  std::string url() const override {
    return with_parameters(server_, "options=-csearch_path%3D" + schema_ +
                                        "&application_name=" + schema_ + "&connect_timeout=2");
  }
  std::vector<int> applied_migrations() override {
    std::vector<int> versions;
    pqxx::work tx(*admin_);
    for (const auto& row :
         tx.exec("SELECT version FROM " + schema_ + ".schema_migrations ORDER BY version"))
      versions.push_back(row[0].as<int>());
    return versions;
  }
  void record_migration(int version) override {
    admin("INSERT INTO " + schema_ + ".schema_migrations (version, applied_at_ms) VALUES (" +
          std::to_string(version) + ", 0)");
  }
  void drop_table(const std::string& table) override {
    admin("DROP TABLE " + schema_ + "." + table);
  }
  void execute(const std::string& sql) override {
    pqxx::work tx(*admin_);
    tx.exec0("SET LOCAL search_path TO " + schema_);
    tx.exec0(sql);
    tx.commit();
  }

  // The server processes serving the store under test.
  std::vector<int> store_backends() {
    pqxx::work tx(*admin_);
    std::vector<int> pids;
    for (const auto& row :
         tx.exec_params("SELECT pid FROM pg_stat_activity WHERE application_name = $1", schema_))
      pids.push_back(row[0].as<int>());
    return pids;
  }

  // Closes, on the server's side, every connection the store under test holds.
  int drop_store_connections() {
    pqxx::work tx(*admin_);
    const auto result = tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        schema_);
    tx.commit();
    return static_cast<int>(result.size());
  }

 private:
  static std::string unique_schema_name() {
    static int counter = 0;
    std::random_device random;
    return "troupe_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
           std::to_string(random() % 1'000'000);
  }
  void admin(const std::string& sql) {
    pqxx::work tx(*admin_);
    tx.exec0(sql);
    tx.commit();
  }

  std::string server_;
  std::string schema_;
  std::unique_ptr<pqxx::connection> admin_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_store)

TROUPE_STORE_CONTRACT(postgres_backend)

BOOST_FIXTURE_TEST_CASE(the_store_reconnects_after_the_server_drops_its_connection,
                        postgres_backend) {
  auto store = open_store(url());
  put(*store, sample_node("before"));
  BOOST_TEST_REQUIRE(drop_store_connections() == 1);
  put(*store, sample_node("after"));  // reconnects and runs again, invisibly
  BOOST_TEST(store->membership().load_nodes().size() == 2u);
  BOOST_TEST_REQUIRE(drop_store_connections() == 1);
  BOOST_TEST(store->membership().load_nodes().size() == 2u);
  BOOST_TEST_REQUIRE(drop_store_connections() == 1);
  remove(*store, "before");
  BOOST_TEST(store->membership().load_nodes().size() == 1u);
}

// Stops a server process for as long as it lives (SIGSTOP, then SIGCONT).
class frozen_process {
 public:
  explicit frozen_process(int pid) : pid_(pid) { BOOST_TEST_REQUIRE(::kill(pid_, SIGSTOP) == 0); }
  ~frozen_process() { ::kill(pid_, SIGCONT); }
  frozen_process(const frozen_process&) = delete;
  frozen_process& operator=(const frozen_process&) = delete;

 private:
  int pid_;
};

BOOST_FIXTURE_TEST_CASE(a_server_that_stops_answering_is_cut_off_and_the_write_lands_anew,
                        postgres_backend) {
  auto store = open_store(url());
  put(*store, sample_node("before"));
  const auto backends = store_backends();
  BOOST_TEST_REQUIRE(backends.size() == 1u);
  frozen_process frozen(backends[0]);  // idle between transactions: it holds no lock
  const auto start = std::chrono::steady_clock::now();
  put(*store, sample_node("after"));  // waits for the watchdog, then runs on a new connection
  const auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST_MESSAGE("the frozen connection was cut after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
                     << " ms");
  BOOST_TEST(store->membership().load_nodes().size() == 2u);
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_gives_a_store_error_without_hanging) {
  server_url();  // this suite needs its server, even where a test does not
  const auto url = "postgresql://postgres@127.0.0.1:" + std::to_string(unused_port()) +
                   "/postgres?connect_timeout=2";
  try {
    open_store(url);
    BOOST_FAIL("open_store(" << url << ") should have thrown store_error");
  } catch (const store_error& e) {
    const std::string message = e.what();
    BOOST_TEST_MESSAGE(message);
    BOOST_TEST(message.find("cannot open store " + url) != std::string::npos, message);
  }
}

BOOST_AUTO_TEST_CASE(a_malformed_url_gives_a_store_error) {
  server_url();
  for (const char* url : {"postgresql://[::1", "postgres://host:notaport/db",
                          "postgresql://127.0.0.1/db?no_such_option=1"}) {
    try {
      open_store(url);
      BOOST_ERROR("open_store(" << url << ") should have thrown store_error");
    } catch (const store_error& e) {
      BOOST_TEST_MESSAGE(e.what());
      BOOST_TEST(std::string(e.what()).find("cannot open store") == 0u, e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(error_messages_never_show_the_password) {
  server_url();
  const auto port = std::to_string(unused_port());
  for (const auto& url :
       {"postgresql://postgres:hunter2@127.0.0.1:" + port + "/postgres?connect_timeout=2",
        "postgres://127.0.0.1:" + port + "/postgres?password=hunter2&connect_timeout=2",
        std::string("postgresql://postgres:hunter2@[::1")}) {  // libpq quotes this URL back
    try {
      open_store(url);
      BOOST_ERROR("open_store should have thrown store_error");
    } catch (const store_error& e) {
      const std::string message = e.what();
      BOOST_TEST(message.find("hunter2") == std::string::npos, message);
      BOOST_TEST(message.find("***") != std::string::npos, message);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::store::test
