// troupe-rank: one rank of a `train` job, started by its node as the job's task
// (docs/training.md, "How a rank runs"). It reads its environment, connects its rank link,
// joins the other ranks (Gloo, through the head's rendezvous), trains its shard, reports step
// and epoch metrics, checkpoints into checkpoints/ of its working directory (rank 0), and
// rank 0 writes the exported model (model.pt, model.json) into its working directory.
// Exit 0: trained. 1: failed (a peer gone, a collective timed out, the cluster refused, a bad
// model or data); the job's retry takes over. 2: a bad environment. Each failure is one
// "troupe-rank: ..." line on stderr.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "cluster/security/key_registry.hpp"
#include "cluster/training/checkpoint.hpp"
#include "cluster/training/collective/collective_error.hpp"
#include "cluster/training/rank_link/rank_link.hpp"
#include "cluster/training/trainer.hpp"
#include "nodes/rank/link_rendezvous.hpp"
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

int train(const rank_environment& env) {
  const auto& spec = env.spec;
  // Fetching from the artifact store comes later: until then only what needs no file runs.
  if (!spec.data.synthetic)
    return fail("data.dataset '" + spec.data.dataset +
                "': ranks do not fetch datasets from the artifact store yet; use data.synthetic");
  if (spec.model.type == "torchscript")
    return fail("model.path '" + spec.model.path +
                "': ranks do not fetch modules from the artifact store yet; use model.type mlp");
  auto data = training::load_training_data(spec, {});
  if (auto* error = std::get_if<msg::error>(&data)) return fail("data: " + error->message);

  auto link = training::rank_link::from_environment();
  auto rendezvous = std::make_shared<link_rendezvous>(link);
  const auto sync = make_rank_sync(
      rendezvous,
      {env.rank, env.world_size,
       env.world_size > 1 ? address_toward(env.master_addr) : std::string(), spec.bucket_mb << 20});

  auto made = training::trainer::create(spec, std::move(std::get<training::training_data>(data)),
                                        *sync, {env.rank, env.world_size, env.threads});
  if (auto* error = std::get_if<msg::error>(&made)) return fail(error->message);
  auto& trainer = *std::get<std::unique_ptr<training::trainer>>(made);

  training::checkpoint_directory checkpoints("checkpoints", spec.checkpoint.keep);
  training::trainer_callbacks callbacks;
  callbacks.on_step = [&](const training::step_report& s) { link.report_step(step_metric_of(s)); };
  callbacks.on_epoch = [&](const training::epoch_report& e) {
    link.report_epoch(epoch_metric_of(e));
  };
  // Every rank holds the same parameters and optimizer state: rank 0's checkpoints are the job's.
  if (env.rank == 0)
    callbacks.on_checkpoint = [&](const std::string& blob, int64_t step) {
      checkpoints.save(blob, step);
    };
  callbacks.stop_requested = [] { return stop_signalled.load(); };

  auto ran = trainer.run(callbacks);
  if (auto* error = std::get_if<msg::error>(&ran)) return fail(error->message);
  link.flush();
  const auto& outcome = std::get<training::run_outcome>(ran);
  if (outcome.end == training::run_end::cancelled) return fail("stopped by a signal");

  if (env.rank == 0) {
    auto exported = trainer.export_model();
    if (auto* error = std::get_if<msg::error>(&exported)) return fail("export: " + error->message);
    training::write_exported_model(std::get<training::exported_model>(exported), ".");
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
    return fail(e.what());
  }
}
