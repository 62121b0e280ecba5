// The store contract (see store_contract.hpp): what every backend must do, checked through
// the public interface only, plus the backend's own client where the schema itself is the
// subject (migrations).
#define BOOST_TEST_MODULE store
#include "store_contract.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <thread>

#include "cluster/store/migrations.hpp"

namespace troupe::store::test {
namespace {

std::vector<node_record> sorted(std::vector<node_record> nodes) {
  std::sort(nodes.begin(), nodes.end(),
            [](const node_record& a, const node_record& b) { return a.node_id < b.node_id; });
  return nodes;
}

std::vector<std::string> ids_of(const std::vector<node_record>& nodes) {
  std::vector<std::string> ids;
  for (const auto& n : sorted(nodes)) ids.push_back(n.node_id);
  return ids;
}

}  // namespace

std::vector<int> all_versions() {
  std::vector<int> versions;
  for (const auto& m : migrations()) versions.push_back(m.version);
  return versions;
}

void create_schema_up_to(backend& b, int version) {
  std::string sql =
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
      " applied_at_ms BIGINT NOT NULL);";
  for (const auto& m : migrations()) {
    if (m.version > version) break;
    for (const auto& statement : m.statements) sql += statement + ";";
    sql += "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 1);";
  }
  b.execute(sql);
}

void expect_store_error(backend& b, const std::string& call, const std::string& what,
                        const std::function<void()>& run) {
  try {
    run();
    BOOST_ERROR(call << " on a store without its table should fail");
  } catch (const store_error& e) {
    const std::string message = e.what();
    BOOST_TEST_MESSAGE(call << " failed as expected: " << message);
    BOOST_TEST(message.find(b.url()) != std::string::npos, call << ": " << message);
    BOOST_TEST(message.find(what) != std::string::npos, call << ": " << message);
  } catch (const std::exception& e) {
    BOOST_ERROR(call << " let a library exception out: " << e.what());
  }
}

node_record sample_node(const std::string& node_id) {
  node_record r;
  r.node_id = node_id;
  r.name = "gpu-box-" + node_id;
  r.incarnation = 7;
  r.state = "suspect";
  r.draining = true;
  r.addresses_json = R"(["tcp://10.0.0.7:7401","tcp://[fe80::1]:7401"])";
  r.resources_json = R"({"cpus":16.0,"memory_mb":65536,"gpus":[{"index":0,"name":"H100"}]})";
  r.labels_json = R"({"zone":"b","team":"vision"})";
  r.version = "0.1.0+abc123";
  r.registered_at_ms = 1'700'000'000'123;
  r.state_changed_at_ms = 1'700'000'456'789;
  return r;
}

void check_same(const node_record& actual, const node_record& expected) {
  BOOST_TEST_CONTEXT("node " << expected.node_id) {
    BOOST_TEST(actual.node_id == expected.node_id);
    BOOST_TEST(actual.name == expected.name);
    BOOST_TEST(actual.incarnation == expected.incarnation);
    BOOST_TEST(actual.state == expected.state);
    BOOST_TEST(actual.draining == expected.draining);
    BOOST_TEST(actual.addresses_json == expected.addresses_json);
    BOOST_TEST(actual.resources_json == expected.resources_json);
    BOOST_TEST(actual.labels_json == expected.labels_json);
    BOOST_TEST(actual.version == expected.version);
    BOOST_TEST(actual.registered_at_ms == expected.registered_at_ms);
    BOOST_TEST(actual.state_changed_at_ms == expected.state_changed_at_ms);
  }
}

void put(cluster_store& store, const node_record& node) { store.apply({node}); }

void remove(cluster_store& store, const std::string& node_id) {
  store.apply({node_removal{node_id}});
}

namespace contract {

void a_new_store_has_no_nodes(backend& b) {
  auto store = open_store(b.url());
  BOOST_TEST(store->membership().load_nodes().empty());
}

void a_stored_node_loads_back_with_every_field(backend& b) {
  auto store = open_store(b.url());
  const auto node = sample_node("n1");
  put(*store, node);
  const auto loaded = store->membership().load_nodes();
  BOOST_TEST_REQUIRE(loaded.size() == 1u);
  check_same(loaded[0], node);
}

void extreme_numbers_and_awkward_texts_load_back_unchanged(backend& b) {
  auto store = open_store(b.url());
  std::vector<node_record> nodes;

  auto highest = sample_node("highest");
  highest.incarnation = std::numeric_limits<uint64_t>::max();  // above int64_t's range
  highest.registered_at_ms = std::numeric_limits<int64_t>::max();
  highest.state_changed_at_ms = std::numeric_limits<int64_t>::min();
  highest.draining = false;
  nodes.push_back(highest);

  auto just_above_int64 = sample_node("just_above_int64");
  just_above_int64.incarnation = uint64_t{1} << 63;
  just_above_int64.registered_at_ms = -1;
  nodes.push_back(just_above_int64);

  auto empty = sample_node("empty");
  empty.incarnation = 0;
  empty.name = empty.state = empty.addresses_json = empty.resources_json = empty.labels_json =
      empty.version = "";
  empty.registered_at_ms = empty.state_changed_at_ms = 0;
  nodes.push_back(empty);

  auto awkward = sample_node("it's \"quoted\"; DROP TABLE nodes; --");
  awkward.name = "Ünïcødé 节点 🚀\nsecond line\ttab \\ backslash $1 ?1 :name";
  awkward.labels_json = R"({"k":"it's","q":"\"","nl":"\n"})";
  awkward.resources_json = std::string(100'000, 'x');  // larger than a page
  nodes.push_back(awkward);

  for (const auto& n : nodes) put(*store, n);
  const auto loaded = sorted(store->membership().load_nodes());
  const auto expected = sorted(nodes);
  BOOST_TEST_REQUIRE(loaded.size() == expected.size());
  for (size_t i = 0; i < loaded.size(); ++i) check_same(loaded[i], expected[i]);
}

void putting_a_known_node_id_replaces_every_field(backend& b) {
  auto store = open_store(b.url());
  put(*store, sample_node("n1"));
  put(*store, sample_node("n2"));

  node_record changed;
  changed.node_id = "n1";
  changed.name = "renamed";
  changed.incarnation = 8;
  changed.state = "alive";
  changed.draining = false;  // the drain flag can be cleared, not only set
  changed.addresses_json = "[]";
  changed.resources_json = "{}";
  changed.labels_json = R"({"new":"label"})";
  changed.version = "0.2.0";
  changed.registered_at_ms = 1;
  changed.state_changed_at_ms = 2;
  put(*store, changed);

  const auto loaded = sorted(store->membership().load_nodes());
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  check_same(loaded[0], changed);
  check_same(loaded[1], sample_node("n2"));
}

void removing_a_node_deletes_only_that_node(backend& b) {
  auto store = open_store(b.url());
  for (const char* id : {"n1", "n2", "n3"}) put(*store, sample_node(id));
  remove(*store, "n2");
  BOOST_TEST(ids_of(store->membership().load_nodes()) == (std::vector<std::string>{"n1", "n3"}),
             boost::test_tools::per_element());
  put(*store, sample_node("n2"));  // a removed node can come back
  BOOST_TEST(store->membership().load_nodes().size() == 3u);
}

void removing_an_unknown_node_changes_nothing(backend& b) {
  auto store = open_store(b.url());
  put(*store, sample_node("n1"));
  BOOST_CHECK_NO_THROW(remove(*store, "never-seen"));
  BOOST_CHECK_NO_THROW(remove(*store, ""));
  const auto loaded = store->membership().load_nodes();
  BOOST_TEST_REQUIRE(loaded.size() == 1u);
  check_same(loaded[0], sample_node("n1"));
}

void a_reopened_store_keeps_every_node_and_drain_flag(backend& b) {
  auto drained = sample_node("drained");
  drained.draining = true;
  auto active = sample_node("active");
  active.draining = false;
  active.state = "alive";
  {
    auto store = open_store(b.url());
    put(*store, drained);
    put(*store, active);
    put(*store, sample_node("removed"));
    remove(*store, "removed");
  }
  auto reopened = open_store(b.url());
  const auto loaded = sorted(reopened->membership().load_nodes());
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  check_same(loaded[0], active);
  check_same(loaded[1], drained);
}

void reopening_a_store_applies_no_migration_twice(backend& b) {
  put(*open_store(b.url()), sample_node("n1"));
  BOOST_TEST(b.applied_migrations() == all_versions(), boost::test_tools::per_element());
  for (int i = 0; i < 3; ++i) {
    auto store = open_store(b.url());
    BOOST_TEST(store->membership().load_nodes().size() == 1u,
               "the data survives reopening " << i + 1);
  }
  BOOST_TEST(b.applied_migrations() == all_versions(), boost::test_tools::per_element());
}

void two_stores_open_on_the_same_data_see_each_others_writes(backend& b) {
  auto first = open_store(b.url());
  auto second = open_store(b.url());
  put(*first, sample_node("from-first"));
  put(*second, sample_node("from-second"));
  BOOST_TEST(ids_of(first->membership().load_nodes()) ==
                 (std::vector<std::string>{"from-first", "from-second"}),
             boost::test_tools::per_element());
  remove(*second, "from-first");
  BOOST_TEST(ids_of(first->membership().load_nodes()) == std::vector<std::string>{"from-second"},
             boost::test_tools::per_element());
}

void stores_opened_at_the_same_time_migrate_once(backend& b) {
  constexpr int openers = 4;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(openers);
  for (int t = 0; t < openers; ++t) {
    threads.emplace_back([&, t] {
      try {
        put(*open_store(b.url()), sample_node("opener-" + std::to_string(t)));
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& f : failures) BOOST_TEST(f.empty(), f);
  BOOST_TEST(b.applied_migrations() == all_versions(), boost::test_tools::per_element());
  BOOST_TEST(open_store(b.url())->membership().load_nodes().size() == size_t{openers});
}

void a_store_written_by_a_newer_schema_is_refused(backend& b) {
  put(*open_store(b.url()), sample_node("n1"));
  const int newer = latest_schema_version() + 1;
  b.record_migration(newer);
  try {
    open_store(b.url());
    BOOST_FAIL("opening a store of schema version " << newer << " should fail");
  } catch (const store_error& e) {
    const std::string message = e.what();
    BOOST_TEST_MESSAGE("refused as expected: " << message);
    BOOST_TEST(message.find("cannot open store " + b.url()) != std::string::npos, message);
    BOOST_TEST(message.find("schema version " + std::to_string(newer)) != std::string::npos,
               message);
  }
  BOOST_TEST(b.applied_migrations().back() == newer, "a refused open must not touch the schema");
}

void a_failed_call_gives_a_store_error_naming_the_store(backend& b) {
  auto store = open_store(b.url());
  put(*store, sample_node("n1"));
  b.drop_table("nodes");
  expect_store_error(b, "put_node", "nodes", [&] { put(*store, sample_node("n2")); });
  expect_store_error(b, "load_nodes", "nodes", [&] { store->membership().load_nodes(); });
  expect_store_error(b, "remove_node", "nodes", [&] { remove(*store, "n1"); });
}

void a_store_may_be_shared_between_threads(backend& b) {
  std::shared_ptr<cluster_store> store = open_store(b.url());
  constexpr int threads = 4;
  constexpr int nodes_per_thread = 25;
  std::vector<std::thread> workers;
  std::vector<std::string> failures(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (int i = 0; i < nodes_per_thread; ++i) {
          put(*store, sample_node("t" + std::to_string(t) + "-" + std::to_string(i)));
          store->membership().load_nodes();
        }
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& f : failures) BOOST_TEST(f.empty(), f);
  BOOST_TEST(store->membership().load_nodes().size() == size_t{threads * nodes_per_thread});
}

void a_batch_of_writes_lands_in_order(backend& b) {
  auto store = open_store(b.url());
  put(*store, sample_node("removed-then-back"));
  auto second_version = sample_node("n1");
  second_version.state = "left";
  second_version.incarnation = 9;
  store->apply({sample_node("n1"), sample_node("gone"), node_removal{"removed-then-back"},
                second_version, node_removal{"gone"}, sample_node("removed-then-back")});
  const auto loaded = sorted(store->membership().load_nodes());
  BOOST_TEST_REQUIRE(loaded.size() == 2u);
  check_same(loaded[0], second_version);
  check_same(loaded[1], sample_node("removed-then-back"));
}

void an_empty_batch_writes_nothing(backend& b) {
  auto store = open_store(b.url());
  BOOST_CHECK_NO_THROW(store->apply({}));
  BOOST_TEST(store->membership().load_nodes().empty());
}

}  // namespace contract
}  // namespace troupe::store::test
