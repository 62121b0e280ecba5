#include "actors/runner/runner_actor.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <array>
#include <caf/all.hpp>
#include <chrono>
#include <map>
#include <set>
#include <vector>

#include "actors/atoms.hpp"
#include "cluster/jobs/kinds/predict/predict_kind.hpp"
#include "cluster/jobs/kinds/serve/serve_kind.hpp"
#include "cluster/jobs/kinds/train/train_kind.hpp"
#include "cluster/runner/task_runner.hpp"
#include "cluster/security/key_registry.hpp"
#include "config/port_range.hpp"
#include "messages/safe_text.hpp"

namespace troupe::runner {
namespace {

using actors::inbound;

constexpr auto report_interval = std::chrono::seconds(1);
// An ended attempt's rank key stays this long, so that what its rank sent just before it
// exited (its last metrics) still passes the rank link instead of being dropped unread.
constexpr auto rank_key_grace = std::chrono::seconds(2);

using security::unix_now_ms;

// What the runner's threads tell the actor.
struct started_event {
  std::string attempt_id;
  int pid = 0;
  uint16_t master_port = 0;
};
struct output_event {
  msg::task_output output;
};
struct finished_event {
  std::string attempt_id;
  jobs::task_exit exit;
};

}  // namespace
}  // namespace troupe::runner

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::runner::started_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::runner::output_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::runner::finished_event)

namespace troupe::runner {
namespace {

// A standby: started the moment the attempt it follows ends.
struct standby {
  std::string after;
  jobs::task_launch launch;
};

struct runner_state {
  static inline const char* name = "runner";
  runner_actor_deps deps;
  std::unique_ptr<task_runner> runner;
  std::map<std::string, std::array<uint64_t, 2>> output_bytes;  // per running attempt and stream
  std::map<std::string, msg::task_finished> unacknowledged;
  std::vector<standby> standbys;
  std::set<std::string> rank_keys;  // attempts issued a rank key, until it is revoked
};

using self_ptr = caf::stateful_actor<runner_state>*;

void send(self_ptr self, msg::jobs_message m) {
  msg::envelope env;
  env.sender = self->state.deps.self_name;
  env.body = std::move(m);
  self->state.deps.endpoint->send("", env);
}

void report(self_ptr self) {
  msg::node_tasks tasks;
  tasks.running = self->state.runner->running();
  for (const auto& [id, f] : self->state.unacknowledged) tasks.finished.push_back(f);
  for (const auto& s : self->state.standbys) tasks.waiting.push_back(s.launch.attempt_id);
  send(self, msg::jobs_message{std::move(tasks)});
}

void on_finished(self_ptr self, const finished_event& e);

// Starts the attempt, with its rank link when it asks for one.
void start(self_ptr self, jobs::task_launch launch) {
  auto& st = self->state;
  spdlog::debug("starting task {}", launch.attempt_id);
  st.output_bytes[launch.attempt_id] = {0, 0};
  if (launch.rank_link) {
    std::string why = "the node has no rank link";
    try {
      if (st.deps.rank_link) {
        launch.env.emplace_back(
            security::rank_link_variable,
            st.deps.rank_link->issue({launch.attempt_id, launch.tenant,
                                      runner::work_dir_of(st.deps.tasks_dir, launch)}));
        st.rank_keys.insert(launch.attempt_id);
        why.clear();
      }
    } catch (const security::security_error& e) {
      why = e.what();
    }
    if (!why.empty())
      return on_finished(
          self, {launch.attempt_id, {std::nullopt, std::nullopt, "could not start: " + why}});
  }
  const bool own_program = !launch.argv.empty() && (launch.argv[0] == jobs::rank_program ||
                                                    launch.argv[0] == jobs::replica_program ||
                                                    launch.argv[0] == jobs::predict_program);
  if (!launch.argv.empty() && launch.argv[0] == jobs::replica_program) {
    launch.env.emplace_back(security::head_public_key_variable, st.deps.head_public_key);
    if (!st.deps.serve_ports.empty())
      launch.env.emplace_back(config::serve_ports_variable, st.deps.serve_ports);
  }
  if (!st.deps.programs_dir.empty() && own_program)
    launch.argv[0] = st.deps.programs_dir + "/" + launch.argv[0];
  st.runner->start(launch);
}

// Reports an end (kept until the head acknowledges it).
void report_end(self_ptr self, msg::task_finished f) {
  self->state.unacknowledged[f.attempt_id] = f;
  send(self, msg::jobs_message{std::move(f)});
}

std::vector<standby>::iterator find_standby(self_ptr self, const std::string& attempt_id) {
  auto& all = self->state.standbys;
  return std::find_if(all.begin(), all.end(),
                      [&](const standby& s) { return s.launch.attempt_id == attempt_id; });
}

void on_start(self_ptr self, const msg::start_task_request& r) {
  auto& st = self->state;
  const auto& id = r.launch.attempt_id;
  if (st.unacknowledged.count(id) || st.output_bytes.count(id)) return;  // ran or runs
  if (find_standby(self, id) != st.standbys.end()) return;
  // It waits while the attempt it follows runs or waits itself; one that ended is gone.
  const auto& after = r.after_attempt_id;
  if (!after.empty() &&
      (st.output_bytes.count(after) || find_standby(self, after) != st.standbys.end()))
    return st.standbys.push_back({after, r.launch});
  start(self, r.launch);
}

void on_kill(self_ptr self, const msg::kill_task_request& k) {
  spdlog::info("killing task {}: {}", k.attempt_id, msg::printable(k.reason));
  auto waiting = find_standby(self, k.attempt_id);
  if (waiting == self->state.standbys.end())
    return self->state.runner->kill(k.attempt_id, k.reason);
  // The one behind it follows what it followed (the head relinks its chain the same way).
  for (auto& s : self->state.standbys)
    if (s.after == k.attempt_id) s.after = waiting->after;
  self->state.standbys.erase(waiting);
  msg::task_finished f;
  f.attempt_id = k.attempt_id;
  f.exit.reason = k.reason.empty() ? "cancelled" : k.reason;
  f.finished_at_ms = unix_now_ms();
  report_end(self, std::move(f));
}

void on_head(self_ptr self, const inbound& in) {
  auto& st = self->state;
  const auto& m = std::get<msg::jobs_message>(in.env.body);
  if (const auto* r = std::get_if<msg::start_task_request>(&m.body)) {
    on_start(self, *r);
  } else if (const auto* k = std::get_if<msg::kill_task_request>(&m.body)) {
    on_kill(self, *k);
  } else if (const auto* a = std::get_if<msg::task_finished_ack>(&m.body)) {
    st.unacknowledged.erase(a->attempt_id);
  }
}

void on_finished(self_ptr self, const finished_event& e) {
  auto& st = self->state;
  // Only an attempt given a key has one to revoke (a timer per task costs the clock a wake-up).
  if (st.rank_keys.erase(e.attempt_id))
    self->delayed_send(self, rank_key_grace, caf::delete_atom::value, e.attempt_id);
  const auto bytes = st.output_bytes[e.attempt_id];
  st.output_bytes.erase(e.attempt_id);
  // Its standbys start at once: the head counted its place as theirs when it placed them.
  // Taken out first: a start that fails ends here too.
  std::vector<jobs::task_launch> next;
  for (auto it = st.standbys.begin(); it != st.standbys.end();) {
    if (it->after != e.attempt_id) {
      ++it;
      continue;
    }
    next.push_back(std::move(it->launch));
    it = st.standbys.erase(it);
  }
  for (auto& launch : next) start(self, std::move(launch));
  msg::task_finished f{e.attempt_id, e.exit, unix_now_ms(), bytes[0], bytes[1]};
  spdlog::log(e.exit.succeeded() ? spdlog::level::debug : spdlog::level::info, "task {} ended: {}",
              e.attempt_id,
              e.exit.reason.empty()
                  ? (e.exit.signal ? "signal " + std::to_string(*e.exit.signal)
                                   : "exit code " + std::to_string(e.exit.exit_code.value_or(-1)))
                  : msg::printable(e.exit.reason));
  report_end(self, std::move(f));
}

caf::behavior runner_behavior(self_ptr self, runner_actor_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  runner_options options;
  options.dir = st.deps.tasks_dir;
  auto me = caf::actor_cast<caf::actor>(self);
  runner_callbacks callbacks;
  callbacks.started = [me](const std::string& id, pid_t pid, uint16_t port) {
    caf::anon_send(me, started_event{id, pid, port});
  };
  callbacks.output = [me](const std::string& id, log_stream stream, uint64_t offset,
                          std::string data) {
    caf::anon_send(me, output_event{msg::task_output{id,
                                                     stream == log_stream::err
                                                         ? msg::log_stream::stderr_stream
                                                         : msg::log_stream::stdout_stream,
                                                     offset, std::move(data)}});
  };
  callbacks.finished = [me](const std::string& id, const jobs::task_exit& exit) {
    caf::anon_send(me, finished_event{id, exit});
  };
  st.runner = std::make_unique<task_runner>(options, std::move(callbacks));
  for (const auto& id : st.runner->leftovers_killed())
    spdlog::warn("killed what task {} of an earlier daemon left running", id);
  self->delayed_send(self, report_interval, actors::tick_atom::value);
  return {
      [self](const inbound& in) { on_head(self, in); },
      [self](const started_event& e) {
        send(self, msg::jobs_message{
                       msg::task_started{e.attempt_id, e.pid, e.master_port, unix_now_ms()}});
      },
      [self](output_event& e) {
        auto& bytes = self->state.output_bytes[e.output.attempt_id];
        bytes[static_cast<size_t>(e.output.stream)] = e.output.offset + e.output.data.size();
        send(self, msg::jobs_message{std::move(e.output)});
      },
      [self](const finished_event& e) { on_finished(self, e); },
      [self](caf::delete_atom, const std::string& attempt_id) {
        self->state.deps.rank_link->revoke(attempt_id);
      },
      [self](actors::tick_atom) {
        report(self);
        self->delayed_send(self, report_interval, actors::tick_atom::value);
      },
      [self](actors::shutdown_atom) {
        self->state.runner.reset();  // kills every task's group and waits for it
        self->quit();                // nothing is left to run or report
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_runner_actor(caf::actor_system& system, runner_actor_deps deps) {
  // Detached: stopping the runner waits for the tasks' processes to end.
  return system.spawn<caf::detached>(runner_behavior, std::move(deps));
}

}  // namespace troupe::runner
