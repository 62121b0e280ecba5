#include <algorithm>

#include "actors/jobs/job_service_state.hpp"
#include "cluster/security/key_registry.hpp"

namespace troupe::job_service::detail {
namespace {

constexpr uint32_t default_list_limit = 1000;
constexpr uint32_t most_log_bytes = 256 * 1024;

msg::job_summary summary_of(self_ptr self, const job_entry& job) {
  msg::job_summary s;
  s.job_id = job.row.job_id;
  s.name = job.row.name;
  s.tenant = job.row.tenant;
  s.kind = job.row.kind;
  s.state = job.row.state;
  s.reason = job.row.reason;
  s.priority = job.row.priority;
  s.tasks = job.spec.tasks;
  s.attempts = job.row.attempts;
  s.submitted_at_ms = job.row.submitted_at_ms;
  s.started_at_ms = job.row.started_at_ms;
  s.finished_at_ms = job.row.finished_at_ms;
  s.exit_code = job.row.exit_code;
  for (auto* a : current_round(self, job)) {
    auto name = node_name(self, a->row.node_id);
    if (std::find(s.nodes.begin(), s.nodes.end(), name) == s.nodes.end()) s.nodes.push_back(name);
  }
  return s;
}

msg::attempt_info info_of(self_ptr self, const attempt_entry& a) {
  const auto& r = a.row;
  return {r.attempt_id,    r.task_index,    r.attempt,   r.node_id, node_name(self, r.node_id),
          r.state,         r.reason,        r.exit_code, r.signal,  r.scheduled_at_ms,
          r.started_at_ms, r.finished_at_ms};
}

}  // namespace

msg::jobs_message list_jobs(self_ptr self, const msg::list_jobs_request& r, const sender_key& key) {
  msg::list_jobs_reply out;
  const auto limit = r.limit == 0 ? default_list_limit : r.limit;
  const auto& order = self->state.order;
  for (auto it = order.rbegin(); it != order.rend() && out.jobs.size() < limit; ++it) {
    const auto& job = self->state.jobs.at(*it);
    if (!visible(key, job) || (!r.tenant.empty() && job.row.tenant != r.tenant)) continue;
    if (!r.state.empty() && job.row.state != r.state) continue;
    out.jobs.push_back(summary_of(self, job));
  }
  return msg::jobs_message{std::move(out)};
}

const job_entry* find_job(self_ptr self, const inbound& in, const std::string& id,
                          const sender_key& key) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end() || !visible(key, it->second)) {
    reply(self, in, msg::error{msg::error_code::not_found, "no job " + id});
    return nullptr;
  }
  return &it->second;
}

void on_get(self_ptr self, const inbound& in, const msg::get_job_request& r,
            const sender_key& key) {
  const auto* job = find_job(self, in, r.job_id, key);
  if (!job) return;
  msg::get_job_reply out;
  out.job = summary_of(self, *job);
  out.spec = job->row.spec_json;
  std::vector<const attempt_entry*> attempts;
  for (const auto& task : job->tasks)
    for (const auto& id : task) attempts.push_back(&self->state.attempts.at(id));
  std::sort(attempts.begin(), attempts.end(), [](auto* a, auto* b) {
    return std::tie(a->row.attempt, a->row.task_index) <
           std::tie(b->row.attempt, b->row.task_index);
  });
  for (auto* a : attempts) out.attempts.push_back(info_of(self, *a));
  for (const auto& t : job->transitions)
    out.transitions.push_back({t.from_state, t.to_state, t.reason, t.at_ms});
  reply(self, in, msg::jobs_message{std::move(out)});
}

void on_logs(self_ptr self, const inbound& in, const msg::job_logs_request& r,
             const sender_key& key) {
  const auto* job = find_job(self, in, r.job_id, key);
  if (!job) return;
  if (r.task_index >= job->tasks.size())
    return reply(self, in,
                 invalid("taskIndex: the job has " + std::to_string(job->tasks.size()) + " tasks"));
  const auto& task = job->tasks[r.task_index];
  msg::job_logs_reply out;
  const attempt_entry* a = nullptr;
  for (auto it = task.rbegin(); it != task.rend(); ++it) {
    const auto& candidate = self->state.attempts.at(*it);
    if (r.attempt == 0 || candidate.row.attempt == r.attempt) {
      a = &candidate;
      break;
    }
  }
  if (!a) {
    if (r.attempt != 0)
      return reply(self, in, msg::error{msg::error_code::not_found, "no such attempt"});
    out.complete = jobs::is_final(state_of(*job));
    return reply(self, in, msg::jobs_message{std::move(out)});
  }
  out.attempt_id = a->row.attempt_id;
  const auto max = r.max_bytes == 0 ? most_log_bytes : std::min(r.max_bytes, most_log_bytes);
  out.data = a->log.read(r.offset, max);
  out.next_offset = r.offset + out.data.size();
  // Output lost on the way (a reconnection) is not waited for long.
  const bool output_done =
      a->output_complete || security::unix_now_ms() - a->row.finished_at_ms > 2000;
  out.complete = jobs::is_final(state_of(*job)) && jobs::is_final(state_of(*a)) && output_done &&
                 out.next_offset >= a->log.size();
  reply(self, in, msg::jobs_message{std::move(out)});
}

job_view view_of_job(self_ptr self, const std::string& job_id) {
  job_view v;
  auto it = self->state.jobs.find(job_id);
  if (it == self->state.jobs.end()) return v;
  v.known = true;
  v.job_id = job_id;
  v.tenant = it->second.row.tenant;
  v.name = it->second.row.name;
  v.kind = it->second.row.kind;
  v.spec_json = it->second.row.spec_json;
  v.state = it->second.row.state;
  return v;
}

job_view view_of_attempt(self_ptr self, const std::string& attempt_id) {
  auto a = self->state.attempts.find(attempt_id);
  if (a == self->state.attempts.end()) return {};
  auto v = view_of_job(self, a->second.row.job_id);
  v.round = a->second.row.attempt;
  v.node_id = a->second.row.node_id;
  if (auto node = self->state.nodes.find(v.node_id); node != self->state.nodes.end())
    v.node_address = node->second.address;
  v.current =
      is_current(self, a->second) && !jobs::is_final(state_of(self->state.jobs.at(v.job_id)));
  return v;
}

}  // namespace troupe::job_service::detail
