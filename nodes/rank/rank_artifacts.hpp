// What a rank moves through its node's artifact cache (docs/training.md, "How a rank runs"): the
// job's datasets and TorchScript module before training, the checkpoint a round resumes from,
// the checkpoints rank 0 takes while training (uploaded in the background, so training never
// waits for the network) and the exported model at the end. A job's checkpoints are the
// versions of the artifact `<job id>/checkpoint`, its model is `<job id>/model`.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cluster/training/dataset.hpp"
#include "cluster/training/rank_link/rank_link.hpp"
#include "nodes/rank/rank_environment.hpp"

namespace troupe::rank {

std::string checkpoint_artifact(const std::string& job_id);
std::string model_artifact(const std::string& job_id);

// Fetches the dataset, the validation dataset and the TorchScript module the spec names, and
// returns the datasets' local paths (`spec.model.path` becomes the module's); throws
// rank_link_error (notFound names the artifact) when one is not in the store.
training::data_files fetch_inputs(training::rank_link& link, training::train_spec& spec);

// The local path of the checkpoint this round resumes from, or nullopt to start fresh. Rank 0
// picks the job's latest and tells the others through the round's rendezvous, so every rank
// resumes from the same one even while an upload of the round before is still landing.
std::optional<std::string> resume_checkpoint(training::rank_link& link,
                                             const rank_environment& env);

// Uploads checkpoint files one at a time from a thread of its own (its own rank link). When
// several are taken while one uploads, only the newest is sent next; a failed upload is
// reported on stderr and training goes on (the next checkpoint is tried again).
class checkpoint_uploader {
 public:
  explicit checkpoint_uploader(std::string job_id);
  ~checkpoint_uploader();  // finish()es
  checkpoint_uploader(const checkpoint_uploader&) = delete;
  checkpoint_uploader& operator=(const checkpoint_uploader&) = delete;

  void upload(const std::string& path);
  // Waits until the newest checkpoint handed in was sent (or failed); then stops the thread.
  void finish();

 private:
  void run();

  std::string job_id_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<std::string> next_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace troupe::rank
