// One task of a `predict` job (docs/jobs.md, "Fields of predict"), as troupe-predict runs it:
//   1. the model: task 0 resolves the spec's reference through its node (ResolveServiceRequest)
//      to one version and tells the other tasks of its round through the rendezvous, so every
//      task scores with the same version;
//   2. the dataset's header and its share of the rows (predict_rows.hpp: about 1/tasks of its
//      bytes, fetched as byte ranges of 8 MiB by a thread of its own while the task scores the
//      ones before), and the model's file, through the node's artifact cache; once it has its
//      share, a task but the last tells the others how many rows it has (for a bad row's line);
//   3. its shard of rows scored in batches of batch_rows, its rows reported as progress (a
//      StepMetric: `step` the rows scored, `loss` the shard's rows as far as the bytes come so far
//      tell, exact in the last report, `samplesPerSecond` rows/s);
//   4. the result: each task publishes the header and its rows as the dataset
//      `<job id>/part-<task>`, and a task but 0 tells task 0 its digest; task 0 then asks the
//      head to assemble the parts, in task order, into the dataset `output.dataset`
//      (AssembleDatasetRequest: the header kept once, the parts removed). A job of one task
//      publishes its rows as `output.dataset` at once.
// Throws predict_failure (or rank_link_error) saying why the task cannot score its shard; a bad
// row is named by its line and id.
#pragma once

#include <stdexcept>
#include <string>

#include "cluster/jobs/kinds/predict/predict_spec.hpp"

namespace troupe::predict {

struct predict_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct task_environment {
  jobs::predict_spec spec;
  std::string job_id;
  std::string attempt_id;
  std::string link_path;  // the rank link's credential file
  uint32_t task = 0, tasks = 1;
  int threads = 1;
};

// What the task did, for its last line of output.
struct task_outcome {
  uint64_t rows = 0;
  uint32_t model_version = 0;
  double fetch_s = 0, score_s = 0, publish_s = 0;  // waiting for its inputs; scoring; the result
};

task_outcome run_task(const task_environment& env);

}  // namespace troupe::predict
