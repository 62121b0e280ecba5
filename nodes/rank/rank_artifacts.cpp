#include "nodes/rank/rank_artifacts.hpp"

#include <cstdio>

namespace troupe::rank {
namespace {

constexpr const char* resume_key = "troupe.resume";
constexpr const char* start_fresh = "none";
constexpr auto resume_wait = std::chrono::minutes(10);  // rank 0 may fetch a large checkpoint

// A local copy of the latest version of `name`, or nullopt when the store has none.
std::optional<msg::fetch_artifact_reply> fetch_if_there(training::rank_link& link,
                                                        const std::string& name,
                                                        const std::string& digest = "") {
  try {
    return link.fetch_artifact(name, digest);
  } catch (const training::rank_link_error& e) {
    if (e.code == msg::error_code::not_found) return std::nullopt;
    throw;
  }
}

std::string fetch(training::rank_link& link, const std::string& field, const std::string& name) {
  auto fetched = fetch_if_there(link, name);
  if (!fetched)
    throw training::rank_link_error(msg::error_code::not_found,
                                    field + ": no artifact '" + name +
                                        "' in the job's tenant (troupe data put FILE --name " +
                                        name + ")");
  return fetched->path;
}

}  // namespace

std::string checkpoint_artifact(const std::string& job_id) { return job_id + "/checkpoint"; }
std::string model_artifact(const std::string& job_id) { return job_id + "/model"; }

training::data_files fetch_inputs(training::rank_link& link, training::train_spec& spec) {
  training::data_files files;
  if (!spec.data.synthetic) {
    files.dataset = fetch(link, "data.dataset", spec.data.dataset);
    if (!spec.data.validation_dataset.empty())
      files.validation = fetch(link, "data.validation_dataset", spec.data.validation_dataset);
  }
  if (spec.model.type == "torchscript")
    spec.model.path = fetch(link, "model.path", spec.model.path);
  return files;
}

std::optional<std::string> resume_checkpoint(training::rank_link& link,
                                             const rank_environment& env) {
  const auto name = checkpoint_artifact(env.job_id);
  std::string digest;
  if (env.rank == 0) {
    const auto latest = fetch_if_there(link, name);
    digest = latest ? latest->artifact.digest : start_fresh;
    if (env.world_size > 1) link.set(resume_key, {digest.begin(), digest.end()});
    if (!latest) return std::nullopt;
    return latest->path;
  }
  const auto told = link.get(resume_key, resume_wait);
  digest.assign(told.begin(), told.end());
  if (digest == start_fresh) return std::nullopt;
  const auto chosen = fetch_if_there(link, name, digest);
  if (!chosen)
    throw training::rank_link_error(
        msg::error_code::not_found,
        "the checkpoint rank 0 resumes from (" + digest + ") is not in the artifact store");
  return chosen->path;
}

checkpoint_uploader::checkpoint_uploader(std::string job_id)
    : job_id_(std::move(job_id)), thread_([this] { run(); }) {}

checkpoint_uploader::~checkpoint_uploader() { finish(); }

void checkpoint_uploader::upload(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    next_ = path;
  }
  changed_.notify_all();
}

void checkpoint_uploader::finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void checkpoint_uploader::run() {
  std::optional<training::rank_link> link;
  for (;;) {
    std::string path;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return next_ || stopping_; });
      if (!next_) return;
      path = std::move(*next_);
      next_.reset();
    }
    try {
      if (!link) link.emplace(training::rank_link::from_environment());
      link->publish_artifact(path, checkpoint_artifact(job_id_), msg::artifact_kind::checkpoint);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "troupe-rank: warning: checkpoint %s was not uploaded: %s\n",
                   path.c_str(), e.what());
    }
  }
}

}  // namespace troupe::rank
