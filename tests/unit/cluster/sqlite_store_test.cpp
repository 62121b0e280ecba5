// The store contract against SQLite, plus what only the SQLite backend has: a file path
// in the URL, files that cannot be opened, write-ahead logging.
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <stdexcept>

#include "cluster/store/faulty_store.hpp"
#include "cluster/store/store.hpp"
#include "store_contract.hpp"

namespace troupe::store::test {
namespace {

namespace fs = std::filesystem;

// A directory of its own under $TMPDIR (or /tmp), removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/troupe-store-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A direct connection to a database file, for looking behind the store's back.
class raw_sqlite {
 public:
  explicit raw_sqlite(const fs::path& file, int flags = SQLITE_OPEN_READWRITE) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
    db_.reset(db);
    BOOST_TEST_REQUIRE(rc == SQLITE_OK, "cannot open " << file << ": " << sqlite3_errstr(rc));
    sqlite3_busy_timeout(db, 5000);
  }
  void execute(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    BOOST_TEST_REQUIRE(rc == SQLITE_OK, sql << ": " << message);
  }
  // The first column of every row, as text.
  std::vector<std::string> column(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) == SQLITE_OK,
                       sql << ": " << sqlite3_errmsg(db_.get()));
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
    std::vector<std::string> values;
    while (sqlite3_step(raw) == SQLITE_ROW)
      values.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)));
    return values;
  }

 private:
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_{nullptr, sqlite3_close_v2};
};

class sqlite_backend : public backend {
 public:
  fs::path file() const { return dir_.path() / "troupe.db"; }
  std::string url() const override { return "sqlite://" + file().string(); }
  std::vector<int> applied_migrations() override {
    std::vector<int> versions;
    for (const auto& v :
         raw_sqlite(file()).column("SELECT version FROM schema_migrations ORDER BY version"))
      versions.push_back(std::stoi(v));
    return versions;
  }
  void record_migration(int version) override {
    raw_sqlite(file()).execute("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (" +
                               std::to_string(version) + ", 0)");
  }
  void drop_table(const std::string& table) override {
    raw_sqlite(file()).execute("DROP TABLE " + table);
  }
  void execute(const std::string& sql) override {
    raw_sqlite(file(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE).execute(sql);
  }

 protected:
  temp_dir dir_;
};

// The message of the store_error that open_store(url) throws (the test fails if none).
std::string open_error(const std::string& url) {
  try {
    open_store(url);
  } catch (const store_error& e) {
    BOOST_TEST_MESSAGE(url << " -> " << e.what());
    return e.what();
  }
  BOOST_FAIL("open_store(" << url << ") should have thrown store_error");
  return {};
}

// Runs in another working directory for as long as it lives.
class working_directory {
 public:
  explicit working_directory(const fs::path& dir) : previous_(fs::current_path()) {
    fs::current_path(dir);
  }
  ~working_directory() { fs::current_path(previous_); }
  working_directory(const working_directory&) = delete;
  working_directory& operator=(const working_directory&) = delete;

 private:
  fs::path previous_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_store)

TROUPE_STORE_CONTRACT(sqlite_backend)

BOOST_FIXTURE_TEST_CASE(an_unwritable_sqlite_path_gives_a_store_error_naming_the_path,
                        sqlite_backend) {
  // A path below a regular file: no one can create it, root included.
  std::ofstream(dir_.path() / "plain-file") << "not a directory";
  const auto path = (dir_.path() / "plain-file" / "troupe.db").string();
  const auto message = open_error("sqlite://" + path);
  BOOST_TEST(message.find("cannot open store sqlite://" + path) != std::string::npos, message);
  BOOST_TEST(message.find("Not a directory") != std::string::npos, message);

  const auto missing = (dir_.path() / "no-such-dir" / "troupe.db").string();
  const auto missing_message = open_error("sqlite://" + missing);
  BOOST_TEST(missing_message.find(missing) != std::string::npos, missing_message);
}

BOOST_FIXTURE_TEST_CASE(a_file_that_is_not_a_database_gives_a_store_error, sqlite_backend) {
  std::ofstream(file()) << std::string(8192, 'x');
  const auto message = open_error(url());
  BOOST_TEST(message.find(url()) != std::string::npos, message);
  BOOST_TEST(message.find("not a database") != std::string::npos, message);
}

BOOST_FIXTURE_TEST_CASE(the_sqlite_file_is_in_write_ahead_logging_mode, sqlite_backend) {
  auto store = open_store(url());
  put(*store, sample_node("n1"));
  BOOST_TEST(raw_sqlite(file()).column("PRAGMA journal_mode") == std::vector<std::string>{"wal"},
             boost::test_tools::per_element());
}

// Expects `call` to throw store_lost with a message naming the file and `what` happened.
template <class Call>
void expect_lost(const char* name, const fs::path& file, const std::string& what, Call call) {
  try {
    call();
    BOOST_ERROR(name << " should have thrown store_lost");
  } catch (const store_lost& e) {
    const std::string message = e.what();
    BOOST_TEST_MESSAGE(name << " -> " << message);
    BOOST_TEST(message.find(file.string()) != std::string::npos, message);
    BOOST_TEST(message.find(what) != std::string::npos, message);
  }
}

BOOST_FIXTURE_TEST_CASE(a_store_file_truncated_to_nothing_is_refused_at_start, sqlite_backend) {
  put(*open_store(url()), sample_node("n1"));
  fs::resize_file(file(), 0);
  const auto message = open_error(url());
  BOOST_TEST(message.find("cannot open store " + url()) != std::string::npos, message);
  BOOST_TEST(message.find("the file is empty") != std::string::npos, message);
  BOOST_TEST(fs::file_size(file()) == 0u, "a refused open must not write the file");
}

BOOST_FIXTURE_TEST_CASE(a_store_file_deleted_while_open_fails_every_call_as_lost, sqlite_backend) {
  auto store = open_store(url());
  put(*store, sample_node("n1"));
  fs::remove(file());
  expect_lost("apply({})", file(), "is gone", [&] { store->apply({}); });
  expect_lost("put", file(), "is gone", [&] { put(*store, sample_node("n2")); });
  expect_lost("load_nodes", file(), "is gone", [&] { store->membership().load_nodes(); });
}

BOOST_FIXTURE_TEST_CASE(a_store_file_truncated_while_open_fails_every_call_as_lost,
                        sqlite_backend) {
  auto store = open_store(url());
  put(*store, sample_node("n1"));
  fs::resize_file(file(), 0);
  expect_lost("apply({})", file(), "truncated", [&] { store->apply({}); });
  expect_lost("put", file(), "truncated", [&] { put(*store, sample_node("n2")); });
}

BOOST_FIXTURE_TEST_CASE(a_store_file_replaced_while_open_fails_every_call_as_lost, sqlite_backend) {
  auto store = open_store(url());
  put(*store, sample_node("n1"));
  const auto other = dir_.path() / "other.db";
  put(*open_store("sqlite://" + other.string()), sample_node("n2"));
  fs::rename(other, file());
  expect_lost("put", file(), "replaced", [&] { put(*store, sample_node("n3")); });
}

BOOST_FIXTURE_TEST_CASE(every_sqlite_url_form_names_the_same_file, sqlite_backend) {
  const auto absolute = file().string();
  put(*open_store("sqlite://" + absolute), sample_node("n1"));
  BOOST_TEST(open_store("sqlite:" + absolute)->membership().load_nodes().size() == 1u);
  working_directory inside(dir_.path());
  BOOST_TEST(open_store("sqlite:troupe.db")->membership().load_nodes().size() == 1u);
  BOOST_TEST(open_store("sqlite://troupe.db")->membership().load_nodes().size() ==
             1u);  // daemon's form
  fs::create_directory("sub");
  open_store("sqlite:sub/other.db");
  BOOST_TEST(fs::exists(dir_.path() / "sub" / "other.db"));
}

// The fault seam that tests of the head use, over a SQLite store.
BOOST_FIXTURE_TEST_CASE(the_fault_seam_fails_stalls_and_forwards_the_job_calls, sqlite_backend) {
  std::shared_ptr<cluster_store> real = open_store(url());
  faulty_store faults(real);
  faults.apply(job_batch("j1"));
  BOOST_TEST(faults.landed_batches() == 1u);
  BOOST_TEST(faults.jobs().load_jobs().size() == 1u);
  BOOST_TEST(faults.jobs().load_attempts().size() == 2u);
  BOOST_TEST(faults.jobs().load_transitions().size() == 2u);

  faults.set(faulty_store::mode::failing);
  BOOST_CHECK_THROW(faults.jobs().load_jobs(), store_error);
  BOOST_CHECK_THROW(faults.jobs().load_attempts(), store_error);
  BOOST_CHECK_THROW(faults.jobs().load_transitions(), store_error);
  BOOST_CHECK_THROW(faults.apply(job_batch("j2")), store_error);
  faults.set(faulty_store::mode::lost);
  BOOST_CHECK_THROW(faults.jobs().load_jobs(), store_lost);

  faults.set(faulty_store::mode::stalling);
  auto stalled = std::async(std::launch::async, [&] { return faults.jobs().load_transitions(); });
  const bool a_call_stalled = faults.wait_for_stalled_call(std::chrono::seconds(10));
  faults.set(faulty_store::mode::working);  // before any failure: the stalled call must end
  BOOST_TEST_REQUIRE(a_call_stalled);
  BOOST_TEST(stalled.get().size() == 2u);
  BOOST_TEST(faults.landed_batches() == 1u, "nothing landed while the store failed");
  BOOST_TEST(real->jobs().load_jobs().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_sqlite_url_without_a_file_gives_a_store_error) {
  for (const char* url : {"sqlite:", "sqlite://"}) {
    const auto message = open_error(url);
    BOOST_TEST(message.find("names no file") != std::string::npos, message);
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_url_scheme_gives_a_store_error_without_the_password) {
  for (const char* url : {"mysql://root:hunter2@127.0.0.1/troupe", "/var/lib/troupe/troupe.db", "",
                          "SQLITE:///tmp/x.db"}) {
    const auto message = open_error(url);
    BOOST_TEST(message.find("unknown scheme") != std::string::npos, message);
    BOOST_TEST(message.find("hunter2") == std::string::npos, message);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace troupe::store::test
