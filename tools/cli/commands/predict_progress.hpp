// How far a predict job is, from the rows its tasks report (a troupe-predict task's StepMetric:
// `step` its rows scored, `loss` its shard's rows, `samplesPerSecond` its rows/s;
// nodes/predict/predict_task.hpp): rows done out of the job's rows, once every task of the
// latest round reported. What `troupe job ID` shows and `troupe submit --wait` follows.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "messages/training.hpp"

namespace troupe::cli {

class predict_progress {
 public:
  explicit predict_progress(uint32_t tasks) : tasks_(tasks) {}

  void add(const msg::metric_entry& entry);
  uint64_t rows_done() const;
  // The job's rows, once every task reported its shard.
  std::optional<uint64_t> rows_total() const;
  // "rows 1200/3000 (40%)  2400 rows/s  ETA 0.8s" (total ? and ETA - until every task reported);
  // empty before any task reported.
  std::string text() const;

 private:
  struct task_rows {
    uint32_t attempt = 0;
    uint64_t done = 0, total = 0;
    double per_second = 0;
  };

  uint32_t tasks_;
  std::map<uint32_t, task_rows> by_task_;  // the latest attempt of each task
};

}  // namespace troupe::cli
