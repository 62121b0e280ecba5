// troupe-rank: one rank of a `train` job, started by its node as the job's task
// (docs/training.md, "How a rank runs"). It reads its environment, connects its rank link,
// fetches the job's data and module through its node's artifact cache, joins the other ranks
// (Gloo, through the head's rendezvous), resumes from the job's latest checkpoint when there is
// one, trains its shard and reports step and epoch metrics. Rank 0 checkpoints (kept in
// checkpoints/ of its working directory and uploaded as the job's), exports the model
// (model.pt, model.json in its working directory), uploads it and registers it.
// Exit 0: trained. 1: failed (a peer gone, a collective timed out, the cluster refused, a bad
// model or data); the job's retry takes over. 2: a bad environment. Each failure is one
// "troupe-rank: ..." line on stderr.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "cluster/host/atomic_file.hpp"
#include "cluster/security/key_registry.hpp"
#include "cluster/training/checkpoint.hpp"
#include "cluster/training/collective/collective_error.hpp"
#include "cluster/training/rank_link/rank_link.hpp"
#include "cluster/training/trainer.hpp"
#include "nodes/rank/link_rendezvous.hpp"
#include "nodes/rank/rank_artifacts.hpp"
#include "nodes/rank/rank_environment.hpp"
#include "nodes/rank/rank_sync.hpp"

using namespace troupe;
using namespace troupe::rank;

namespace {

constexpr int exit_failed = 1;
constexpr int exit_bad_environment = 2;

std::atomic<bool> stop_signalled{false};

extern "C" void on_stop_signal(int) { stop_signalled = true; }

int fail(const std::string& why, int code = exit_failed) {
  std::fprintf(stderr, "troupe-rank: %s\n", why.c_str());
  return code;
}

msg::step_metric step_metric_of(const training::step_report& s) {
  return {static_cast<uint32_t>(s.epoch), static_cast<uint64_t>(s.step), s.loss, s.lr,
          s.samples_per_second,           security::unix_now_ms()};
}

msg::epoch_metric epoch_metric_of(const training::epoch_report& e) {
  return {static_cast<uint32_t>(e.epoch), e.train_loss, e.val_loss, e.val_accuracy, e.val_mae,
          security::unix_now_ms()};
}

nlohmann::json metrics_json(const training::epoch_report& e) {
  nlohmann::json out{{"epoch", e.epoch}, {"train_loss", e.train_loss}};
  if (e.val_loss) out["val_loss"] = *e.val_loss;
  if (e.val_accuracy) out["val_accuracy"] = *e.val_accuracy;
  if (e.val_mae) out["val_mae"] = *e.val_mae;
  return out;
}

// The epoch with the lowest validation loss (training loss without validation data).
struct best_epoch {
  std::optional<training::epoch_report> best;
  void offer(const training::epoch_report& e) {
    const auto loss = [](const training::epoch_report& r) {
      return r.val_loss.value_or(r.train_loss);
    };
    if (!best || loss(e) < loss(*best)) best = e;
  }
};

// Rank 0, once trained: the model goes to the artifact store and into the registry.
void publish_model(training::rank_link& link, const rank_environment& env,
                   training::trainer& trainer, const training::run_outcome& outcome,
                   const best_epoch& best) {
  auto exported = trainer.export_model();
  if (auto* error = std::get_if<msg::error>(&exported))
    throw std::runtime_error("export: " + error->message);
  const auto& model = std::get<training::exported_model>(exported);
  training::write_exported_model(model, ".");
  const auto artifact =
      link.publish_artifact("model.pt", model_artifact(env.job_id), msg::artifact_kind::model);
  training::model_registration registration;
  registration.artifact_digest = artifact.digest;
  if (outcome.last_epoch)
    registration.final_metrics_json = metrics_json(*outcome.last_epoch).dump();
  if (best.best) registration.best_metrics_json = metrics_json(*best.best).dump();
  registration.dataset_fingerprint = model.metadata.value("dataset_fingerprint", "");
  registration.input_features = static_cast<uint32_t>(model.metadata.at("features").size());
  registration.classes = model.metadata.at("classes").get<std::vector<std::string>>();
  const auto registered = link.register_model(registration);
  std::printf("registered model %s version %u (artifact %s)\n", registered.name.c_str(),
              registered.version, artifact.digest.c_str());
}

int train(rank_environment& env) {
  auto& spec = env.spec;
  auto link = training::rank_link::from_environment();
  const auto files = fetch_inputs(link, spec);
  auto data = training::load_training_data(spec, files);
  if (auto* error = std::get_if<msg::error>(&data)) return fail("data: " + error->message);

  auto rendezvous = std::make_shared<link_rendezvous>(link);
  const auto sync = make_rank_sync(
      rendezvous,
      {env.rank, env.world_size,
       env.world_size > 1 ? address_toward(env.master_addr) : std::string(), spec.bucket_mb << 20});

  auto made = training::trainer::create(spec, std::move(std::get<training::training_data>(data)),
                                        *sync, {env.rank, env.world_size, env.threads});
  if (auto* error = std::get_if<msg::error>(&made)) return fail(error->message);
  auto& trainer = *std::get<std::unique_ptr<training::trainer>>(made);

  if (const auto resume_from = resume_checkpoint(link, env)) {
    if (auto error = trainer.resume(host::read_whole_file(*resume_from)))
      return fail("resume: " + error->message);
    std::printf("rank %d resumes from checkpoint %s, after step %lld\n", env.rank,
                resume_from->c_str(), static_cast<long long>(trainer.global_step()));
    std::fflush(stdout);
  }

  training::checkpoint_directory checkpoints("checkpoints", spec.checkpoint.keep);
  std::optional<checkpoint_uploader> uploader;
  best_epoch best;
  training::trainer_callbacks callbacks;
  callbacks.on_step = [&](const training::step_report& s) { link.report_step(step_metric_of(s)); };
  callbacks.on_epoch = [&](const training::epoch_report& e) {
    best.offer(e);
    link.report_epoch(epoch_metric_of(e));
  };
  // Every rank holds the same parameters and optimizer state: rank 0's checkpoints are the job's.
  if (env.rank == 0) {
    uploader.emplace(env.job_id);
    callbacks.on_checkpoint = [&](const std::string& blob, int64_t step) {
      uploader->upload(checkpoints.save(blob, step));
    };
  }
  callbacks.stop_requested = [] { return stop_signalled.load(); };

  auto ran = trainer.run(callbacks);
  if (auto* error = std::get_if<msg::error>(&ran)) return fail(error->message);
  link.flush();
  const auto& outcome = std::get<training::run_outcome>(ran);
  if (outcome.end == training::run_end::cancelled) return fail("stopped by a signal");

  if (env.rank == 0) {
    uploader->finish();
    publish_model(link, env, trainer, outcome, best);
  }
  std::printf("rank %d of %d trained %lld epochs, %lld steps\n", env.rank, env.world_size,
              static_cast<long long>(outcome.epochs), static_cast<long long>(outcome.steps));
  return 0;
}

}  // namespace

int main() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  auto env = read_rank_environment();
  if (auto* why = std::get_if<std::string>(&env)) return fail(*why, exit_bad_environment);
  try {
    return train(std::get<rank_environment>(env));
  } catch (const training::collective_error& e) {
    return fail(std::string("collective failed (") + msg::to_string(e.code()) + "): " + e.what());
  } catch (const training::rank_link_error& e) {
    return fail(std::string("rank link (") + msg::to_string(e.code) + "): " + e.what());
  } catch (const std::exception& e) {
    // A cancel or a gang stopped while a call blocked (joining Gloo, say) ends that call with
    // EINTR: say why it ended rather than "Interrupted system call".
    if (stop_signalled) return fail(std::string("stopped by a signal (") + e.what() + ")");
    return fail(e.what());
  }
}
