// The head's record of what train jobs' ranks report (docs/training.md, Metrics): each job's
// entries numbered from 1 in arrival order and written to the store's job_metrics table in
// batches (group commit), and read back from there, so a restarted head shows what its
// predecessor stored. Plain C++ over the store's metrics area (no actors): its calls block, so
// the training service runs it on a thread of its own. Not thread-safe.
//
// Entries wait in memory until a flush stores them, all jobs' in one transaction. A flush that
// fails keeps every one of them for the next; while they wait, a job keeps at most `keep_steps`
// steps (older ones would leave the store at the next flush anyway) and every epoch. The store
// keeps each job's newest `keep_steps` steps and every epoch.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/store/store.hpp"
#include "messages/training.hpp"

namespace troupe::training {

class metrics_log {
 public:
  metrics_log(store::metrics_store& store, uint64_t keep_steps);

  // Queues the report's steps, then its epochs, for the job.
  void add(const std::string& job_id, const msg::metrics_report& report);
  // Stores every queued entry in one transaction. Throws store_error; the entries stay queued.
  void flush();
  size_t queued() const;
  // The job's entries after seq `after`, at most `most`, oldest first: the stored ones, then
  // the queued ones. Throws store_error.
  std::vector<msg::metric_entry> read(const std::string& job_id, uint64_t after, uint32_t most);

 private:
  struct queued_entry {
    uint64_t seq = 0;  // 0 until the job's numbering is known
    std::string attempt_id;
    std::variant<msg::step_metric, msg::epoch_metric> metric;
  };
  struct job_entries {
    std::optional<uint64_t> last_seq;  // the highest seq given; unknown until asked of the store
    std::deque<queued_entry> queue;
    size_t queued_steps = 0;
  };

  // Gives the job's queued entries their seqs, asking the store where numbering stands first
  // when this log does not know yet. Throws store_error.
  void number(const std::string& job_id, job_entries& job);
  void drop_oldest_step(job_entries& job);

  store::metrics_store& store_;
  uint64_t keep_steps_;
  std::unordered_map<std::string, job_entries> jobs_;
  size_t queued_ = 0;
};

}  // namespace troupe::training
