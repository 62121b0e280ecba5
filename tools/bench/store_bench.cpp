// troupe-bench-store: what group commit buys. N node writes to the head's store, each in a
// transaction of its own (one fsync per change, as a store without a queue would do), versus
// all of them sent to the write-ahead queue at once (actors/store), which batches what
// arrives while a transaction is under way. Then the same for N job rows, one per transaction
// versus batches of 64, how long a head's start takes to load 1,000 jobs with their
// attempts and transitions, and what the training service's metrics writes cost once a job
// holds the 100,000 steps it keeps.
//
//   troupe-bench-store [N] [STORE_URL]   (default: 2000 writes, SQLite in a temp dir)
#include <unistd.h>

#include <algorithm>
#include <caf/all.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "actors/atoms.hpp"
#include "actors/store/store_actor.hpp"
#include "cluster/store/faulty_store.hpp"

namespace {

using namespace troupe;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

store::node_record node(int i, const std::string& state) {
  store::node_record r;
  r.node_id = "bench-" + std::to_string(i);
  r.name = r.node_id;
  r.incarnation = 1;
  r.state = state;
  r.addresses_json = R"(["tcp://10.0.0.7:7401"])";
  r.resources_json = R"({"cpus":16.0,"memory_mb":65536,"gpus":[]})";
  r.labels_json = "{}";
  r.version = "0.1.0";
  return r;
}

store::job_record job(const std::string& id) {
  store::job_record r;
  r.job_id = id;
  r.tenant = "default";
  r.name = "bench";
  r.kind = "command";
  r.client_request_id = "request-" + id;
  r.spec_json = R"({"name":"bench","kind":"command","argv":["true"]})";
  r.state = "SUCCEEDED";
  r.attempts = 1;
  r.submitted_at_ms = r.started_at_ms = r.finished_at_ms = 1'700'000'000'000;
  r.exit_code = 0;
  return r;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

void one_transaction_each(store::cluster_store& db, int n) {
  const auto start = clock_type::now();
  for (int i = 0; i < n; ++i) db.apply({node(i, "alive")});
  const double s = seconds_since(start);
  std::printf("one transaction per write:  %6d writes in %7.3f s = %9.0f writes/s\n", n, s, n / s);
}

void through_the_queue(const std::shared_ptr<store::cluster_store>& db, int n) {
  auto counted = std::make_shared<store::faulty_store>(db);
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  auto queue = actors::spawn_store_actor(system, counted, [] { std::abort(); });
  caf::scoped_actor self{system};
  const auto start = clock_type::now();
  for (int i = 0; i < n; ++i)
    self->send(queue, actors::store_atom::value, store::store_write{node(i, "suspect")});
  bool stored = false;
  self->request(queue, std::chrono::minutes(5), actors::store_atom::value,
                actors::confirm_atom::value, store::store_write{node(n, "suspect")})
      .receive([&](bool answer) { stored = answer; },
               [&](caf::error& e) { std::fprintf(stderr, "%s\n", system.render(e).c_str()); });
  const double s = seconds_since(start);
  if (!stored) std::exit(1);
  std::printf(
      "through the write queue:    %6d writes in %7.3f s = %9.0f writes/s, %zu transactions\n",
      n + 1, s, (n + 1) / s, counted->landed_batches());
  self->send_exit(queue, caf::exit_reason::user_shutdown);
}

void job_rows(store::cluster_store& db, int n) {
  constexpr int batch_size = 64;
  auto start = clock_type::now();
  for (int i = 0; i < n; ++i) db.apply({job("each-" + std::to_string(i))});
  double s = seconds_since(start);
  std::printf("job rows, one per transaction: %6d rows in %7.3f s = %9.0f rows/s\n", n, s, n / s);
  start = clock_type::now();
  for (int first = 0; first < n; first += batch_size) {
    std::vector<store::store_write> batch;
    for (int i = first; i < std::min(n, first + batch_size); ++i)
      batch.push_back(job("batched-" + std::to_string(i)));
    db.apply(batch);
  }
  s = seconds_since(start);
  std::printf("job rows, %d per transaction: %6d rows in %7.3f s = %9.0f rows/s\n", batch_size, n,
              s, n / s);
}

// A head's start: loading every job, attempt and transition of 1,000 finished jobs.
void recovery(store::cluster_store& db) {
  constexpr int jobs = 1000;
  for (int first = 0; first < jobs; first += 64) {
    std::vector<store::store_write> batch;
    for (int i = first; i < std::min(jobs, first + 64); ++i) {
      const auto id = "recovered-" + std::to_string(i);
      batch.push_back(job(id));
      store::attempt_record attempt;
      attempt.attempt_id = id + ".0.1";
      attempt.job_id = id;
      attempt.attempt = 1;
      attempt.state = "SUCCEEDED";
      attempt.exit_code = 0;
      batch.push_back(attempt);
      for (uint64_t seq = 1; seq <= 3; ++seq)
        batch.push_back(store::job_transition{id, seq, "PENDING", "SCHEDULED", "", 0});
    }
    db.apply(batch);
  }
  const auto start = clock_type::now();
  const auto loaded_jobs = db.jobs().load_jobs();
  const auto loaded_attempts = db.jobs().load_attempts();
  const auto loaded_transitions = db.jobs().load_transitions();
  std::printf(
      "loading every job (as a head starts): %zu jobs, %zu attempts, %zu transitions in %.3f s\n",
      loaded_jobs.size(), loaded_attempts.size(), loaded_transitions.size(), seconds_since(start));
}

// The training service's writes (actors/training/metrics_log): a second's reports of one job
// (10 steps) appended onto the 100,000 steps it keeps, each trimming the oldest; then a read
// of 10,000 entries, the most a JobMetricsRequest gets.
void metrics_writes(store::cluster_store& db) {
  constexpr uint64_t keep = 100'000;
  uint64_t seq = 0;
  auto steps = [&](int n) {
    std::vector<store::metric_record> rows;
    for (int i = 0; i < n; ++i) {
      store::metric_record r;
      r.job_id = "bench-metrics";
      r.seq = ++seq;
      r.attempt_id = r.job_id + ".0.1";
      r.kind = "step";
      r.step = seq;
      r.loss = 0.5;
      r.at_ms = 1'700'000'000'000;
      rows.push_back(std::move(r));
    }
    return rows;
  };
  while (seq < keep) db.metrics().append_metrics(steps(1000), keep);
  constexpr int flushes = 20;
  auto start = clock_type::now();
  for (int i = 0; i < flushes; ++i) db.metrics().append_metrics(steps(10), keep);
  std::printf("metrics: 10 steps onto %llu kept, trimming: %.2f ms a write\n",
              static_cast<unsigned long long>(keep), seconds_since(start) * 1000 / flushes);
  start = clock_type::now();
  const auto read = db.metrics().load_metrics("bench-metrics", 0, 10'000);
  std::printf("metrics: reading %zu entries: %.2f ms\n", read.size(), seconds_since(start) * 1000);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::string url = argc > 2 ? argv[2] : "";
  fs::path dir;
  if (url.empty()) {
    std::string pattern = (fs::temp_directory_path() / "troupe-bench-store-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) return 1;
    dir = pattern;
    url = "sqlite://" + (dir / "troupe.db").string();
  }
  try {
    std::shared_ptr<store::cluster_store> db = store::open_store(url);
    std::printf("store %s\n", db->name().c_str());
    one_transaction_each(*db, n);
    through_the_queue(db, n);
    recovery(*db);
    job_rows(*db, n);
    metrics_writes(*db);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-bench-store: %s\n", e.what());
    return 1;
  }
  if (!dir.empty()) fs::remove_all(dir);
  return 0;
}
