#include "tools/cli/commands/training.hpp"

#include <chrono>
#include <sstream>
#include <thread>

#include "cluster/jobs/job_model.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

constexpr auto poll_interval = std::chrono::milliseconds(500);

nlohmann::json to_json(const msg::metric_entry& e) {
  nlohmann::json j = {{"seq", e.seq}, {"attempt", e.attempt_id}};
  if (const auto* s = std::get_if<msg::step_metric>(&e.metric)) {
    j.update({{"kind", "step"},
              {"epoch", s->epoch},
              {"step", s->step},
              {"loss", s->loss},
              {"lr", s->learning_rate},
              {"samples_per_s", s->samples_per_second},
              {"at", s->at_ms}});
    return j;
  }
  const auto& p = std::get<msg::epoch_metric>(e.metric);
  j.update({{"kind", "epoch"}, {"epoch", p.epoch}, {"train_loss", p.train_loss}, {"at", p.at_ms}});
  if (p.val_loss) j["val_loss"] = *p.val_loss;
  if (p.val_accuracy) j["val_accuracy"] = *p.val_accuracy;
  if (p.val_mae) j["val_mae"] = *p.val_mae;
  return j;
}

std::string text_of(const msg::metric_entry& e) {
  std::ostringstream out;
  if (const auto* s = std::get_if<msg::step_metric>(&e.metric)) {
    out << "epoch " << s->epoch << " step " << s->step << "  loss " << s->loss << "  lr "
        << s->learning_rate << "  " << static_cast<int64_t>(s->samples_per_second)
        << " samples/s\n";
    return out.str();
  }
  const auto& p = std::get<msg::epoch_metric>(e.metric);
  out << "epoch " << p.epoch << " done  train loss " << p.train_loss;
  if (p.val_loss) out << "  val loss " << *p.val_loss;
  if (p.val_accuracy) out << "  val accuracy " << *p.val_accuracy;
  if (p.val_mae) out << "  val MAE " << *p.val_mae;
  out << "\n";
  return out.str();
}

}  // namespace

result<int> show_metrics(const session& s, const std::string& job_id, bool follow,
                         std::ostream& out) {
  uint64_t after = 0;
  for (;;) {
    auto reply = s.call_in<msg::job_metrics_reply>(
        msg::training_message{msg::job_metrics_request{job_id, after, 0}});
    if (!reply) return reply.error();
    for (const auto& e : reply->entries)
      out << (s.config().json ? to_json(e).dump() + "\n" : text_of(e));
    out << std::flush;
    after = reply->next;
    if (!reply->entries.empty()) continue;  // more may be waiting
    const auto state = jobs::parse_job_state(reply->job_state);
    if (!follow || (state && jobs::is_final(*state))) return 0;
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace troupe::cli
