// The cluster state store: where the head keeps what must survive its restart. Today that is
// the membership table (every node it has seen, with its drain flag); job records come later
// in the same store. Two backends behind one interface, with the same schema and migrations:
//   sqlite:///abs/path/troupe.db   sqlite:relative/path.db   (default: a file in the data dir)
//   postgresql://user@host:port/db?... and postgres://...  (a libpq connection URI)
//
// Contract, for every backend:
// - open_store() connects, applies the pending migrations in one transaction and returns a
//   ready store. It refuses a schema newer than this build knows.
// - Every call is synchronous and durable when it returns (SQLite: WAL with
//   synchronous=FULL; PostgreSQL: committed). A store serializes its calls, so it may be shared
//   between threads, but calls block: keep them off CAF's cooperative scheduler.
// - Every failure is a store_error whose message names the store (passwords hidden);
//   no exception of the underlying library ever escapes.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace troupe::store {

class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One row of the membership table. The *_json strings are opaque to the store: the caller
// serializes and parses them. Every value round-trips unchanged, including the full range
// of `incarnation` and of the times.
struct node_record {
  std::string node_id;  // the key
  std::string name;
  uint64_t incarnation = 0;
  std::string state;  // "alive", "suspect", "dead", "draining", "left"
  bool draining = false;
  std::string addresses_json;
  std::string resources_json;
  std::string labels_json;
  std::string version;
  int64_t registered_at_ms = 0;     // Unix time
  int64_t state_changed_at_ms = 0;  // Unix time
};

class membership_store {
 public:
  virtual ~membership_store();

  // Inserts the node, or replaces every field of the row with the same node_id.
  virtual void put_node(const node_record& record) = 0;
  // Every stored node, in no particular order.
  virtual std::vector<node_record> load_nodes() = 0;
  // Deletes the node's row; removing an unknown node_id does nothing.
  virtual void remove_node(const std::string& node_id) = 0;
};

// Opens (creating when needed) the store at `url` and brings its schema up to date.
// A PostgreSQL URL without connect_timeout gets connect_timeout=10, so that an unreachable
// server gives an error instead of a hang. Throws store_error.
std::unique_ptr<membership_store> open_store(const std::string& url);

}  // namespace troupe::store
