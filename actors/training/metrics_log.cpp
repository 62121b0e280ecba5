#include "actors/training/metrics_log.hpp"

#include <algorithm>
#include <type_traits>

namespace troupe::training {
namespace {

struct record_of {
  store::metric_record& r;
  void operator()(const msg::step_metric& s) const {
    r.kind = "step";
    r.epoch = s.epoch;
    r.step = s.step;
    r.loss = s.loss;
    r.learning_rate = s.learning_rate;
    r.samples_per_second = s.samples_per_second;
    r.at_ms = s.at_ms;
  }
  void operator()(const msg::epoch_metric& e) const {
    r.kind = "epoch";
    r.epoch = e.epoch;
    r.loss = e.train_loss;
    r.val_loss = e.val_loss;
    r.val_accuracy = e.val_accuracy;
    r.val_mae = e.val_mae;
    r.at_ms = e.at_ms;
  }
};

msg::metric_entry entry_of(const store::metric_record& r) {
  msg::metric_entry e{r.seq, r.attempt_id, {}};
  if (r.kind == "step")
    e.metric =
        msg::step_metric{r.epoch, r.step, r.loss, r.learning_rate, r.samples_per_second, r.at_ms};
  else
    e.metric = msg::epoch_metric{r.epoch, r.loss, r.val_loss, r.val_accuracy, r.val_mae, r.at_ms};
  return e;
}

}  // namespace

metrics_log::metrics_log(store::metrics_store& store, uint64_t keep_steps)
    : store_(store), keep_steps_(keep_steps) {}

void metrics_log::add(const std::string& job_id, const msg::metrics_report& report) {
  auto& job = jobs_[job_id];
  auto push = [&](auto metric) {
    const bool step = std::is_same_v<decltype(metric), msg::step_metric>;
    const uint64_t seq = job.last_seq ? ++*job.last_seq : 0;
    job.queue.push_back({seq, report.attempt_id, std::move(metric)});
    ++queued_;
    if (step && ++job.queued_steps > keep_steps_) drop_oldest_step(job);
  };
  for (const auto& s : report.steps) push(s);
  for (const auto& e : report.epochs) push(e);
}

void metrics_log::drop_oldest_step(job_entries& job) {
  auto oldest = std::find_if(job.queue.begin(), job.queue.end(), [](const queued_entry& e) {
    return std::holds_alternative<msg::step_metric>(e.metric);
  });
  job.queue.erase(oldest);
  --job.queued_steps;
  --queued_;
}

void metrics_log::number(const std::string& job_id, job_entries& job) {
  if (!job.last_seq) job.last_seq = store_.last_metric_seq(job_id);
  for (auto& e : job.queue)
    if (e.seq == 0) e.seq = ++*job.last_seq;
}

void metrics_log::flush() {
  std::vector<store::metric_record> rows;
  for (auto& [job_id, job] : jobs_) {
    if (job.queue.empty()) continue;
    number(job_id, job);
    for (const auto& e : job.queue) {
      store::metric_record r;
      r.job_id = job_id;
      r.seq = e.seq;
      r.attempt_id = e.attempt_id;
      std::visit(record_of{r}, e.metric);
      rows.push_back(std::move(r));
    }
  }
  store_.append_metrics(rows, keep_steps_);
  for (auto& [job_id, job] : jobs_) {
    job.queue.clear();
    job.queued_steps = 0;
  }
  queued_ = 0;
}

size_t metrics_log::queued() const { return queued_; }

std::vector<msg::metric_entry> metrics_log::read(const std::string& job_id, uint64_t after,
                                                 uint32_t most) {
  std::vector<msg::metric_entry> entries;
  for (const auto& r : store_.load_metrics(job_id, after, most)) entries.push_back(entry_of(r));
  auto job = jobs_.find(job_id);
  if (job == jobs_.end() || job->second.queue.empty()) return entries;
  // Queued entries come after every stored one of the job.
  number(job_id, job->second);
  for (const auto& e : job->second.queue) {
    if (entries.size() >= most) break;
    if (e.seq > after) entries.push_back({e.seq, e.attempt_id, e.metric});
  }
  return entries;
}

}  // namespace troupe::training
