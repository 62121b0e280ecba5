#include "actors/training/metrics_keeper.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>
#include <optional>

#include "actors/atoms.hpp"
#include "actors/training/metrics_log.hpp"

namespace troupe::training {
namespace {

struct keeper_state {
  static inline const char* name = "metrics_keeper";
  std::shared_ptr<store::cluster_store> store;  // outlives `log`, which refers to it
  std::optional<metrics_log> log;
  std::chrono::milliseconds flush_interval{};
  bool flush_due = false;
  bool failing = false;

  ~keeper_state() {  // a head that stops stores what waits
    if (!log || log->queued() == 0) return;
    try {
      log->flush();
    } catch (const std::exception& e) {
      spdlog::error("metrics: {} entries not stored at shutdown: {}", log->queued(), e.what());
    }
  }
};

using keeper_ptr = caf::stateful_actor<keeper_state>*;

void flush_metrics(keeper_ptr self) {
  auto& st = self->state;
  st.flush_due = false;
  const auto queued = st.log->queued();
  if (queued == 0) return;
  try {
    st.log->flush();
    if (st.failing) spdlog::info("metrics: the store works again; {} entries stored", queued);
    st.failing = false;
  } catch (const std::exception& e) {  // store_error, or anything unexpected
    if (!st.failing)
      spdlog::error(
          "metrics: cannot store {} entries; they stay queued and are retried every {} "
          "ms: {}",
          queued, st.flush_interval.count(), e.what());
    st.failing = true;
    st.flush_due = true;
    self->delayed_send(self, st.flush_interval, actors::tick_atom::value);
  }
}

caf::behavior metrics_keeper(keeper_ptr self, std::shared_ptr<store::cluster_store> store,
                             metrics_settings settings) {
  self->state.store = std::move(store);
  self->state.log.emplace(self->state.store->metrics(), settings.keep_steps);
  self->state.flush_interval = settings.flush_interval;
  return {
      [self](caf::put_atom, const std::string& job_id, const msg::metrics_report& report) {
        auto& st = self->state;
        st.log->add(job_id, report);
        if (st.flush_due) return;
        st.flush_due = true;
        self->delayed_send(self, st.flush_interval, actors::tick_atom::value);
      },
      [self](caf::get_atom, const std::string& job_id, uint64_t after,
             uint32_t most) -> caf::result<std::vector<msg::metric_entry>> {
        try {
          return self->state.log->read(job_id, after, most);
        } catch (const std::exception& e) {
          spdlog::error("metrics: cannot read job {}'s: {}", job_id, e.what());
          return caf::make_error(caf::sec::runtime_error, e.what());
        }
      },
      [self](actors::tick_atom) { flush_metrics(self); },
  };
}

}  // namespace

caf::actor spawn_metrics_keeper(caf::local_actor* owner,
                                std::shared_ptr<store::cluster_store> store,
                                metrics_settings settings) {
  return owner->spawn<caf::detached + caf::linked>(metrics_keeper, std::move(store), settings);
}

caf::actor spawn_metrics_keeper(caf::actor_system& system,
                                std::shared_ptr<store::cluster_store> store,
                                metrics_settings settings) {
  return system.spawn<caf::detached>(metrics_keeper, std::move(store), settings);
}

}  // namespace troupe::training
