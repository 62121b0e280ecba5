// The cluster state store: where the head keeps what must survive its restart. One store per
// cluster, with one interface per area (membership, jobs, artifacts, models, metrics), over two
// backends that share one SQL layer (sql.hpp), one file per table and one list of migrations:
//   sqlite:///abs/path/troupe.db   sqlite:relative/path.db   (default: a file in the data dir)
//   postgresql://user@host:port/db?... and postgres://...  (a libpq connection URI)
//
// Contract, for every backend:
// - open_store() connects, applies the pending migrations in one transaction and returns a
//   ready store. It refuses a schema newer than this build knows, and a SQLite file that is
//   empty (a store file is never empty once created: it was truncated).
// - Every call is synchronous and durable when it returns (SQLite: WAL with
//   synchronous=FULL; PostgreSQL: committed), and bounded by the timeouts below. A store
//   serializes its calls, so it may be shared between threads, but calls block: keep them
//   off CAF's cooperative scheduler.
// - Every failure is a store_error whose message names the store (passwords hidden); no
//   exception of the underlying library ever escapes. store_lost means the data the store
//   was opened on is gone (its file was deleted or truncated): retrying cannot help.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace troupe::store {

class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class store_lost : public store_error {
 public:
  using store_error::store_error;
};

// How long a store call may take. PostgreSQL: connecting takes at most connect_timeout (the
// default, when the URL sets none), a statement at most statement_timeout (on the server),
// and a server that does not answer for answer_timeout has its connection cut; a call makes
// at most two attempts (the second on a new connection). SQLite waits at most 5 s for a lock.
// Whoever waits for a store answer waits longer than longest_call.
constexpr std::chrono::seconds connect_timeout{10};
constexpr std::chrono::seconds statement_timeout{10};
constexpr std::chrono::seconds answer_timeout = statement_timeout + std::chrono::seconds(5);
constexpr std::chrono::seconds longest_call = 2 * (connect_timeout + answer_timeout);

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

// Deletes the membership row of `node_id` (nothing when there is none).
struct node_removal {
  std::string node_id;
};

// One row of the jobs table, "jobs/<job_id>". States are the job model's to_string names
// ("PENDING" ... "CANCELLED"); spec_json is opaque to the store. Every value round-trips
// unchanged (full ranges, an absent exit_code apart from 0, any UTF-8 text).
struct job_record {
  std::string job_id;  // the key
  std::string tenant;
  std::string name;
  std::string kind;
  int32_t priority = 0;
  // Unique per tenant when not empty (idempotent submit): a write that would give a second
  // job of the tenant the same one fails, and its whole batch with it.
  std::string client_request_id;
  std::string spec_json;  // the validated spec
  std::string state;
  std::string reason;           // why it is in that state (may be empty)
  uint32_t attempts = 0;        // attempt number of the latest attempt (0: none yet)
  int64_t submitted_at_ms = 0;  // Unix time; 0: not yet
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  std::optional<int32_t> exit_code;  // of the job (task 0 / the first failing task)
};

// One row of the attempts table, "attempts/<attempt_id>": one attempt of one task.
struct attempt_record {
  std::string attempt_id;  // the key: "<job id>.<task index>.<attempt number>"
  std::string job_id;
  uint32_t task_index = 0;
  uint32_t attempt = 0;
  std::string node_id;
  std::string state;  // "SCHEDULED" ... "LOST"
  std::string reason;
  std::optional<int32_t> exit_code;
  std::optional<int32_t> signal;
  std::string gpus_json;  // the device indices given, e.g. "[0,1]"
  std::string log_path;   // where the head keeps its logs
  uint32_t master_port = 0;
  int64_t scheduled_at_ms = 0;  // Unix time; 0: not yet
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
};

// One row of the transitions table, "transitions/<job_id>/<seq>": the history of a job's
// states, inserted once per change (writing it again, as a retried batch may, changes nothing).
struct job_transition {
  std::string job_id;
  uint64_t seq = 0;  // 1, 2, ... per job
  std::string from_state;
  std::string to_state;
  std::string reason;
  int64_t at_ms = 0;  // Unix time
};

// One row of the artifacts table, "artifacts/<tenant>/<name>/<digest>": one stored version of
// an artifact (docs/artifacts.md). Every value round-trips unchanged (full range of size).
struct artifact_record {
  std::string tenant;  // the key: tenant, name, digest
  std::string name;
  std::string digest;  // SHA-256 of the bytes, 64 lowercase hex digits
  std::string kind;    // "dataset", "checkpoint", "model"
  uint64_t size = 0;
  int64_t created_at_ms = 0;  // Unix time
  std::string job_id;         // empty when a user uploaded it
};

// Deletes the version (tenant, name, digest) of an artifact (nothing when there is none).
struct artifact_removal {
  std::string tenant;
  std::string name;
  std::string digest;
};

// A change to one row of one table; a later write of the same row replaces it entirely.
using store_write = std::variant<node_record, node_removal, job_record, attempt_record,
                                 job_transition, artifact_record, artifact_removal>;

// The row a write changes, as "table/key": writes of different rows are independent.
std::string row_of(const store_write& write);

class membership_store {
 public:
  virtual ~membership_store();
  // Every stored node, in no particular order.
  virtual std::vector<node_record> load_nodes() = 0;
};

class jobs_store {
 public:
  virtual ~jobs_store();
  // Every row of each table, one query each (the head loads them all when it starts). Jobs
  // and attempts in no particular order; transitions ordered by job_id (byte order), then seq.
  virtual std::vector<job_record> load_jobs() = 0;
  virtual std::vector<attempt_record> load_attempts() = 0;
  virtual std::vector<job_transition> load_transitions() = 0;
};

class artifacts_store {
 public:
  virtual ~artifacts_store();
  // Every stored version of every artifact, in no particular order.
  virtual std::vector<artifact_record> load_artifacts() = 0;
};

// One row of the model_versions table: a registered version of a model (docs/models.md).
// The *_json strings are opaque to the store.
struct model_version_record {
  std::string name;      // the model's name; with `version`, the key
  uint32_t version = 0;  // 1, 2, ... per name, assigned by register_version
  std::string tenant;
  std::string job_id;           // the train job that made it; empty for an imported version
  std::string artifact_digest;  // sha256 of the artifact, 64 lowercase hex digits
  std::string final_metrics_json;
  std::string best_metrics_json;
  std::string params_json;  // the train spec
  std::string dataset_fingerprint;
  std::string stage;          // "none", "staging", "production", "archived"
  int64_t created_at_ms = 0;  // Unix time
  // The signature (models::output_kind's names; classes in output order).
  uint32_t input_features = 0;  // 0: not declared
  std::string output_kind = "logits";
  std::vector<std::string> classes;
  std::string source = "trained";  // or "imported" (models::model_source's names)
};

// One row of the model_stage_changes table: one stage change of one version, never changed once
// written. seq counts 1, 2, ... per model, in the order the changes were made.
struct model_stage_change {
  std::string name;
  uint64_t seq = 0;
  uint32_t version = 0;
  std::string from_stage;
  std::string to_stage;
  std::string changed_by;  // who asked (a key id)
  int64_t at_ms = 0;       // Unix time
};

struct model_registration {
  enum class outcome {
    registered,    // stored as a new version
    existing,      // the job had registered a version before: that one, unchanged
    other_tenant,  // the name belongs to another tenant's model: nothing was stored
  };
  outcome result = outcome::registered;
  // As stored (other_tenant: the request, with the tenant that owns the name).
  model_version_record version;
};

class models_store {
 public:
  virtual ~models_store();
  // Stores `v` as the next version of model `v.name`: one more than the highest version the
  // name ever had, with stage "none" (`v.version` and `v.stage` are ignored). It runs in one
  // transaction holding the model's row locked, so that concurrent registrations of one name,
  // through any number of stores, get distinct consecutive versions. Idempotent per job id (a
  // trained version) or per name and artifact digest (an imported one); a model belongs to the
  // tenant of its first version.
  virtual model_registration register_version(const model_version_record& v) = 0;
  // Every version of model `name` (of every model when empty), ordered by name (bytes), then
  // version.
  virtual std::vector<model_version_record> load_versions(const std::string& name) = 0;
  // Every stage change of model `name` (of every model when empty), ordered by name, then seq.
  virtual std::vector<model_stage_change> load_stage_changes(const std::string& name) = 0;

  // Which stages a change makes, from every version of the model as stored: each entry's
  // version, to_stage, changed_by and at_ms (the store fills in seq and from_stage). It may
  // run twice (a retried transaction), so it must only compute.
  using stage_plan =
      std::function<std::vector<model_stage_change>(const std::vector<model_version_record>&)>;
  // Reads model `name`'s versions with its row locked, asks `plan`, and stores each change (the
  // version's new stage and its history row) in the same transaction, so that concurrent
  // changes of one model apply one after the other. Returns the changes as stored.
  virtual std::vector<model_stage_change> change_stages(const std::string& name,
                                                        const stage_plan& plan) = 0;
};

// One row of the job_metrics table: one step or epoch report of a train job's rank, as the head
// numbered it (docs/training.md, Metrics). A step row has epoch, step, loss, learning_rate,
// samples_per_second; an epoch row has epoch, loss (its training loss) and the validation
// figures it has. Every value round-trips unchanged (finite doubles exactly).
struct metric_record {
  std::string job_id;  // with seq, the key
  uint64_t seq = 0;    // 1, 2, ... per job, in the order the head received them
  std::string attempt_id;
  std::string kind;  // "step" or "epoch"
  uint32_t epoch = 0;
  uint64_t step = 0;  // steps since the start of training; 0 in an epoch row
  double loss = 0;
  double learning_rate = 0;       // 0 in an epoch row
  double samples_per_second = 0;  // 0 in an epoch row
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;
  std::optional<double> val_mae;
  int64_t at_ms = 0;  // Unix time
};

class metrics_store {
 public:
  virtual ~metrics_store();
  // Stores `rows` (in one transaction), then keeps of each of their jobs only the newest
  // `keep_steps` step rows (by seq) and every epoch row. A row whose job and seq are stored
  // already is left as it is, so a batch may be written again after a failure.
  virtual void append_metrics(const std::vector<metric_record>& rows, uint64_t keep_steps) = 0;
  // The job's rows with seq above `after`, by seq, at most `limit`.
  virtual std::vector<metric_record> load_metrics(const std::string& job_id, uint64_t after,
                                                  uint32_t limit) = 0;
  // The highest seq stored for the job; 0 when there is none.
  virtual uint64_t last_metric_seq(const std::string& job_id) = 0;
};

class cluster_store {
 public:
  virtual ~cluster_store();

  virtual membership_store& membership() = 0;
  virtual jobs_store& jobs() = 0;
  virtual artifacts_store& artifacts() = 0;
  virtual models_store& models() = 0;
  virtual metrics_store& metrics() = 0;

  // Applies `writes` in order in one transaction (group commit: one fsync for many
  // changes): all of them land or none does. An empty batch writes nothing and only checks
  // that the store's data is still there (throws store_lost when it is not).
  virtual void apply(const std::vector<store_write>& writes) = 0;

  // The store's URL, password hidden: for messages.
  virtual const std::string& name() const = 0;
};

// Opens (creating when needed) the store at `url` and brings its schema up to date.
// A PostgreSQL URL without connect_timeout gets connect_timeout above. Throws store_error.
std::unique_ptr<cluster_store> open_store(const std::string& url);

}  // namespace troupe::store
