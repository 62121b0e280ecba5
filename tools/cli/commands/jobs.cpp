#include "tools/cli/commands/jobs.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <thread>

#include "cluster/security/key_registry.hpp"
#include "tools/cli/commands/predict_progress.hpp"
#include "tools/cli/commands/train_progress.hpp"
#include "tools/cli/display_text.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

constexpr auto poll_interval = std::chrono::milliseconds(200);
constexpr int submit_tries = 3;

template <class Reply, class Request>
result<Reply> call_jobs(const session& s, Request request) {
  return s.call_in<Reply>(msg::jobs_message{std::move(request)});
}

std::string random_request_id() {
  std::random_device random;
  std::ostringstream out;
  for (int i = 0; i < 4; ++i) out << std::hex << random();
  return out.str();
}

result<std::string> read_spec(const std::string& file) {
  std::ostringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return failure{exit_code::usage, "cannot read the job spec " + file};
  text << in.rdbuf();
  return text.str();
}

using security::unix_now_ms;

std::string optional_number(const std::optional<int32_t>& v) {
  return v ? std::to_string(*v) : "-";
}

nlohmann::json optional_json(const std::optional<int32_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json ms_json(int64_t unix_ms) { return unix_ms ? nlohmann::json(unix_ms) : nullptr; }

nlohmann::json to_json(const msg::job_summary& j) {
  return {{"id", j.job_id},
          {"name", j.name},
          {"tenant", j.tenant},
          {"kind", j.kind},
          {"state", j.state},
          {"reason", j.reason},
          {"priority", j.priority},
          {"tasks", j.tasks},
          {"attempts_made", j.attempts},
          {"submitted_at", ms_json(j.submitted_at_ms)},
          {"started_at", ms_json(j.started_at_ms)},
          {"finished_at", ms_json(j.finished_at_ms)},
          {"exit_code", optional_json(j.exit_code)},
          {"nodes", j.nodes}};
}

nlohmann::json to_json(const msg::attempt_info& a) {
  return {{"id", a.attempt_id},
          {"task", a.task_index},
          {"attempt", a.attempt},
          {"node", a.node_name},
          {"node_id", a.node_id},
          {"state", a.state},
          {"reason", a.reason},
          {"exit_code", optional_json(a.exit_code)},
          {"signal", optional_json(a.signal)},
          {"scheduled_at", ms_json(a.scheduled_at_ms)},
          {"started_at", ms_json(a.started_at_ms)},
          {"finished_at", ms_json(a.finished_at_ms)}};
}

bool is_final(const std::string& state) {
  return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED";
}

// The tasks of the job's latest round (0 before its first placement): an elastic train job's
// round may run fewer than the job's tasks.
uint32_t round_tasks(const msg::get_job_reply& job) {
  return static_cast<uint32_t>(
      std::count_if(job.attempts.begin(), job.attempts.end(),
                    [&](const auto& a) { return a.attempt == job.job.attempts; }));
}

std::string tasks_text(const msg::get_job_reply& job) {
  const auto round = round_tasks(job);
  const auto all = std::to_string(job.job.tasks);
  return round == 0 || round == job.job.tasks
             ? all
             : std::to_string(round) + " of " + all + " in attempt " +
                   std::to_string(job.job.attempts);
}

int exit_code_of(const msg::get_job_reply& job) {
  if (job.job.state == "SUCCEEDED") return 0;
  if (job.job.exit_code && *job.job.exit_code != 0) return *job.job.exit_code;
  for (auto it = job.attempts.rbegin(); it != job.attempts.rend(); ++it)
    if (it->signal) return 128 + *it->signal;
  return 1;
}

std::string status_line(const msg::job_summary& j) {
  std::string line = "job " + j.job_id + " " + j.state;
  if (!j.nodes.empty()) {
    line += " on ";
    for (size_t i = 0; i < j.nodes.size(); ++i) line += (i ? "," : "") + msg::printable(j.nodes[i]);
  }
  if (j.started_at_ms)
    line += " for " +
            duration_text((j.finished_at_ms ? j.finished_at_ms : unix_now_ms()) - j.started_at_ms);
  if (!j.reason.empty()) line += " (" + msg::printable(j.reason) + ")";
  return line;
}

// The epochs of a train job's spec (the job's validated spec as JSON); nullopt for other kinds.
std::optional<uint32_t> train_epochs(const msg::get_job_reply& job) {
  if (job.job.kind != "train") return std::nullopt;
  const auto spec = nlohmann::json::parse(job.spec, nullptr, false);
  if (!spec.is_object() || !spec.contains("epochs") || !spec["epochs"].is_number_unsigned())
    return std::nullopt;
  return spec["epochs"].get<uint32_t>();
}

// A train or predict job's progress as `troupe submit --wait` follows it: the metrics read so far.
struct followed_metrics {
  std::variant<train_progress, predict_progress> progress;
  uint64_t after = 0;
  std::string text() const {
    return std::visit([](const auto& p) { return p.text(); }, progress);
  }
};

// How the metrics of `job` show its progress; nullopt for a kind without one.
std::optional<followed_metrics> progress_of(const msg::get_job_reply& job) {
  if (const auto epochs = train_epochs(job)) return followed_metrics{train_progress(*epochs), 0};
  if (job.job.kind == "predict") return followed_metrics{predict_progress(job.job.tasks), 0};
  return std::nullopt;
}

// Reads the metrics that came since the last call. A head that cannot answer now leaves the
// progress as it was: the job's state is what the wait is about.
void read_metrics(const session& s, const std::string& job_id, followed_metrics& m) {
  for (;;) {
    auto reply = s.call_in<msg::job_metrics_reply>(
        msg::training_message{msg::job_metrics_request{job_id, m.after, 0}});
    if (!reply) return;
    for (const auto& e : reply->entries) std::visit([&](auto& p) { p.add(e); }, m.progress);
    m.after = reply->next;
    if (reply->entries.empty()) return;
  }
}

}  // namespace

result<std::string> submit_job(const session& s, const std::string& file) {
  auto spec = read_spec(file);
  if (!spec) return spec.error();
  const msg::submit_job_request request{*spec, random_request_id()};
  for (int attempt = 1;; ++attempt) {
    auto reply = call_jobs<msg::submit_job_reply>(s, request);
    if (!reply && reply.error().exit_code == exit_code::unreachable && attempt < submit_tries)
      continue;  // the same client request id: a job already made is returned, not made again
    if (!reply) return reply.error();
    return reply->job_id;
  }
}

std::string submitted_text(const session& s, const std::string& job_id) {
  return s.config().json ? json_text({{"id", job_id}}) : job_id + "\n";
}

result<int> wait_for_job(const session& s, const std::string& job_id, std::ostream& out,
                         bool terminal) {
  std::string last, last_progress;
  std::optional<followed_metrics> metrics;
  std::optional<std::chrono::steady_clock::time_point> progress_printed;
  for (;;) {
    auto job = call_jobs<msg::get_job_reply>(s, msg::get_job_request{job_id});
    if (!job) return job.error();
    if (!metrics) metrics = progress_of(*job);
    if (metrics) read_metrics(s, job_id, *metrics);
    const auto line = status_line(job->job);
    const auto progress = metrics ? metrics->text() : "";
    const bool final = is_final(job->job.state);
    if (terminal) {
      out << "\r\033[K" << line << (progress.empty() || final ? "" : "  " + progress) << std::flush;
    } else {
      if (line.substr(0, line.find(" for ")) != last.substr(0, last.find(" for ")))
        out << line << std::endl;
      // At most a line a second: a log of the run, not of every poll.
      const auto now = std::chrono::steady_clock::now();
      if (!final && progress != last_progress &&
          (!progress_printed || now - *progress_printed >= std::chrono::seconds(1))) {
        out << progress << std::endl;
        last_progress = progress;
        progress_printed = now;
      }
    }
    last = line;
    if (final) {
      if (terminal) out << "\n";
      return exit_code_of(*job);
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

command_output list_jobs(const session& s, const std::string& state, const std::string& tenant) {
  auto reply = call_jobs<msg::list_jobs_reply>(s, msg::list_jobs_request{state, tenant, 0});
  if (!reply) return reply.error();
  if (s.config().json) {
    auto out = nlohmann::json::array();
    for (const auto& j : reply->jobs) out.push_back(to_json(j));
    return json_text(out);
  }
  std::vector<std::vector<std::string>> rows{{"ID", "NAME", "TENANT", "STATE", "TASKS", "ATTEMPTS",
                                              "EXIT", "NODES", "SUBMITTED", "REASON"}};
  for (const auto& j : reply->jobs) {
    std::string nodes;
    for (const auto& n : j.nodes) nodes += (nodes.empty() ? "" : ",") + msg::printable(n);
    rows.push_back({j.job_id, msg::printable(j.name), msg::printable(j.tenant), j.state,
                    std::to_string(j.tasks), std::to_string(j.attempts),
                    optional_number(j.exit_code), nodes.empty() ? "-" : nodes,
                    utc_time(j.submitted_at_ms), msg::printable(j.reason)});
  }
  return table(rows);
}

command_output show_job(const session& s, const std::string& job_id) {
  auto reply = call_jobs<msg::get_job_reply>(s, msg::get_job_request{job_id});
  if (!reply) return reply.error();
  const auto& j = reply->job;
  std::optional<predict_progress> scored;
  if (j.kind == "predict") {
    followed_metrics read{predict_progress(j.tasks), 0};
    read_metrics(s, job_id, read);
    scored = std::get<predict_progress>(read.progress);
  }
  if (s.config().json) {
    auto out = to_json(j);
    out["round_tasks"] = round_tasks(*reply);
    if (scored) {
      const auto total = scored->rows_total();
      out["progress"] = {{"rows_done", scored->rows_done()},
                         {"rows_total", total ? nlohmann::json(*total) : nullptr}};
    }
    auto spec = nlohmann::json::parse(reply->spec, nullptr, false);
    out["spec"] = spec.is_discarded() ? nlohmann::json(reply->spec) : spec;
    out["attempts"] = nlohmann::json::array();
    for (const auto& a : reply->attempts) out["attempts"].push_back(to_json(a));
    out["transitions"] = nlohmann::json::array();
    for (const auto& t : reply->transitions)
      out["transitions"].push_back(
          {{"from", t.from_state}, {"to", t.to_state}, {"reason", t.reason}, {"at", t.at_ms}});
    return json_text(out);
  }
  std::string text = table({{"id", j.job_id},
                            {"name", msg::printable(j.name)},
                            {"tenant", msg::printable(j.tenant)},
                            {"kind", msg::printable(j.kind)},
                            {"state", j.state},
                            {"reason", j.reason.empty() ? "-" : msg::printable(j.reason)},
                            {"tasks", tasks_text(*reply)},
                            {"exit code", optional_number(j.exit_code)},
                            {"submitted", utc_time(j.submitted_at_ms)},
                            {"started", utc_time(j.started_at_ms)},
                            {"finished", utc_time(j.finished_at_ms)}});
  if (scored && !scored->text().empty()) text += "progress: " + scored->text() + "\n";
  text += "\nattempts:\n";
  std::vector<std::vector<std::string>> rows{
      {"ATTEMPT", "TASK", "NODE", "STATE", "EXIT", "SIGNAL", "STARTED", "FINISHED", "REASON"}};
  for (const auto& a : reply->attempts)
    rows.push_back({a.attempt_id, std::to_string(a.task_index), msg::printable(a.node_name),
                    a.state, optional_number(a.exit_code), optional_number(a.signal),
                    utc_time(a.started_at_ms), utc_time(a.finished_at_ms),
                    msg::printable(a.reason)});
  text += table(rows);
  text += "\nhistory:\n";
  std::vector<std::vector<std::string>> history;
  for (const auto& t : reply->transitions)
    history.push_back({utc_time(t.at_ms), t.from_state.empty() ? "-" : t.from_state, "->",
                       t.to_state, msg::printable(t.reason)});
  text += table(history);
  text += "\nspec: " + msg::printable(reply->spec) + "\n";
  return text;
}

command_output cancel_job(const session& s, const std::string& job_id) {
  auto reply = call_jobs<msg::cancel_job_reply>(s, msg::cancel_job_request{job_id});
  if (!reply) return reply.error();
  if (s.config().json) return json_text({{"id", job_id}, {"state", reply->state}});
  return "job " + job_id + " " + reply->state + "\n";
}

result<int> show_logs(const session& s, const std::string& job_id, uint32_t task, bool follow,
                      std::ostream& out) {
  uint64_t offset = 0;
  std::string attempt;
  for (;;) {
    auto reply =
        call_jobs<msg::job_logs_reply>(s, msg::job_logs_request{job_id, task, 0, offset, 0});
    if (!reply) return reply.error();
    if (reply->attempt_id != attempt) {  // a new attempt: its output starts over
      const bool first = attempt.empty();
      attempt = reply->attempt_id;
      if (!first) {
        out << "--- attempt " << attempt << " ---\n";
        offset = 0;
        continue;
      }
    }
    out << reply->data << std::flush;
    offset = reply->next_offset;
    if (!reply->data.empty()) continue;  // more may be waiting
    if (!follow || reply->complete) return 0;
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace troupe::cli
