#include "messages/jobs_codec.hpp"

#include "messages/codec_parts.hpp"

namespace troupe::msg::jobs_codec {
namespace {

using namespace parts;
using Which = wire::JobsMessage;

void put_summary(wire::JobSummary::Builder b, const job_summary& v) {
  b.setJobId(text(v.job_id));
  b.setName(text(v.name));
  b.setTenant(text(v.tenant));
  b.setKind(text(v.kind));
  b.setState(text(v.state));
  b.setReason(text(v.reason));
  b.setPriority(v.priority);
  b.setTasks(v.tasks);
  b.setAttempts(v.attempts);
  b.setSubmittedAtMs(v.submitted_at_ms);
  b.setStartedAtMs(v.started_at_ms);
  b.setFinishedAtMs(v.finished_at_ms);
  b.setHasExitCode(v.exit_code.has_value());
  b.setExitCode(v.exit_code.value_or(0));
  put_texts(b.initNodes(static_cast<unsigned>(v.nodes.size())), v.nodes);
}

job_summary get_summary(wire::JobSummary::Reader r) {
  job_summary v;
  v.job_id = str(r.getJobId());
  v.name = str(r.getName());
  v.tenant = str(r.getTenant());
  v.kind = str(r.getKind());
  v.state = str(r.getState());
  v.reason = str(r.getReason());
  v.priority = r.getPriority();
  v.tasks = r.getTasks();
  v.attempts = r.getAttempts();
  v.submitted_at_ms = r.getSubmittedAtMs();
  v.started_at_ms = r.getStartedAtMs();
  v.finished_at_ms = r.getFinishedAtMs();
  if (r.getHasExitCode()) v.exit_code = r.getExitCode();
  v.nodes = texts(r.getNodes());
  return v;
}

void put_attempt(wire::AttemptInfo::Builder b, const attempt_info& v) {
  b.setAttemptId(text(v.attempt_id));
  b.setTaskIndex(v.task_index);
  b.setAttempt(v.attempt);
  b.setNodeId(text(v.node_id));
  b.setNodeName(text(v.node_name));
  b.setState(text(v.state));
  b.setReason(text(v.reason));
  b.setHasExitCode(v.exit_code.has_value());
  b.setExitCode(v.exit_code.value_or(0));
  b.setHasSignal(v.signal.has_value());
  b.setSignal(v.signal.value_or(0));
  b.setScheduledAtMs(v.scheduled_at_ms);
  b.setStartedAtMs(v.started_at_ms);
  b.setFinishedAtMs(v.finished_at_ms);
}

attempt_info get_attempt(wire::AttemptInfo::Reader r) {
  attempt_info v;
  v.attempt_id = str(r.getAttemptId());
  v.task_index = r.getTaskIndex();
  v.attempt = r.getAttempt();
  v.node_id = str(r.getNodeId());
  v.node_name = str(r.getNodeName());
  v.state = str(r.getState());
  v.reason = str(r.getReason());
  if (r.getHasExitCode()) v.exit_code = r.getExitCode();
  if (r.getHasSignal()) v.signal = r.getSignal();
  v.scheduled_at_ms = r.getScheduledAtMs();
  v.started_at_ms = r.getStartedAtMs();
  v.finished_at_ms = r.getFinishedAtMs();
  return v;
}

void put_launch(wire::TaskLaunch::Builder b, const jobs::task_launch& v) {
  b.setAttemptId(text(v.attempt_id));
  put_texts(b.initArgv(static_cast<unsigned>(v.argv.size())), v.argv);
  auto env = b.initEnv(static_cast<unsigned>(v.env.size()));
  for (unsigned i = 0; i < v.env.size(); ++i) {
    env[i].setName(text(v.env[i].first));
    env[i].setValue(text(v.env[i].second));
  }
  b.setWorkdir(text(v.workdir));
  b.setCpus(v.cpus);
  b.setMemoryLimitMb(v.memory_limit_mb);
  b.setTimeoutMs(v.timeout_ms);
  auto gpus = b.initGpus(static_cast<unsigned>(v.gpus.size()));
  for (unsigned i = 0; i < v.gpus.size(); ++i) gpus.set(i, v.gpus[i]);
  b.setPickMasterPort(v.pick_master_port);
  b.setRankLink(v.rank_link);
  b.setTenant(text(v.tenant));
}

jobs::task_launch get_launch(wire::TaskLaunch::Reader r) {
  jobs::task_launch v;
  v.attempt_id = str(r.getAttemptId());
  v.argv = texts(r.getArgv());
  for (auto e : r.getEnv()) v.env.emplace_back(str(e.getName()), str(e.getValue()));
  v.workdir = str(r.getWorkdir());
  v.cpus = finite(r.getCpus());
  v.memory_limit_mb = r.getMemoryLimitMb();
  v.timeout_ms = r.getTimeoutMs();
  for (auto g : r.getGpus()) v.gpus.push_back(g);
  v.pick_master_port = r.getPickMasterPort();
  v.rank_link = r.getRankLink();
  v.tenant = str(r.getTenant());
  return v;
}

void put_finished(wire::TaskFinished::Builder b, const task_finished& v) {
  b.setAttemptId(text(v.attempt_id));
  b.setHasExitCode(v.exit.exit_code.has_value());
  b.setExitCode(v.exit.exit_code.value_or(0));
  b.setHasSignal(v.exit.signal.has_value());
  b.setSignal(v.exit.signal.value_or(0));
  b.setReason(text(v.exit.reason));
  b.setFinishedAtMs(v.finished_at_ms);
  b.setStdoutBytes(v.stdout_bytes);
  b.setStderrBytes(v.stderr_bytes);
}

task_finished get_finished(wire::TaskFinished::Reader r) {
  task_finished v;
  v.attempt_id = str(r.getAttemptId());
  if (r.getHasExitCode()) v.exit.exit_code = r.getExitCode();
  if (r.getHasSignal()) v.exit.signal = r.getSignal();
  v.exit.reason = str(r.getReason());
  v.finished_at_ms = r.getFinishedAtMs();
  v.stdout_bytes = r.getStdoutBytes();
  v.stderr_bytes = r.getStderrBytes();
  return v;
}

struct encoder {
  wire::JobsMessage::Builder b;

  void operator()(const submit_job_request& v) {
    auto r = b.initSubmitJobRequest();
    r.setSpec(text(v.spec));
    r.setClientRequestId(text(v.client_request_id));
  }
  void operator()(const submit_job_reply& v) {
    auto r = b.initSubmitJobReply();
    r.setJobId(text(v.job_id));
    r.setExisting(v.existing);
  }
  void operator()(const list_jobs_request& v) {
    auto r = b.initListJobsRequest();
    r.setState(text(v.state));
    r.setTenant(text(v.tenant));
    r.setLimit(v.limit);
  }
  void operator()(const list_jobs_reply& v) {
    auto jobs = b.initListJobsReply().initJobs(static_cast<unsigned>(v.jobs.size()));
    for (unsigned i = 0; i < v.jobs.size(); ++i) put_summary(jobs[i], v.jobs[i]);
  }
  void operator()(const get_job_request& v) { b.initGetJobRequest().setJobId(text(v.job_id)); }
  void operator()(const get_job_reply& v) {
    auto r = b.initGetJobReply();
    put_summary(r.initJob(), v.job);
    r.setSpec(text(v.spec));
    auto attempts = r.initAttempts(static_cast<unsigned>(v.attempts.size()));
    for (unsigned i = 0; i < v.attempts.size(); ++i) put_attempt(attempts[i], v.attempts[i]);
    auto transitions = r.initTransitions(static_cast<unsigned>(v.transitions.size()));
    for (unsigned i = 0; i < v.transitions.size(); ++i) {
      transitions[i].setFromState(text(v.transitions[i].from_state));
      transitions[i].setToState(text(v.transitions[i].to_state));
      transitions[i].setReason(text(v.transitions[i].reason));
      transitions[i].setAtMs(v.transitions[i].at_ms);
    }
  }
  void operator()(const cancel_job_request& v) {
    b.initCancelJobRequest().setJobId(text(v.job_id));
  }
  void operator()(const cancel_job_reply& v) { b.initCancelJobReply().setState(text(v.state)); }
  void operator()(const job_logs_request& v) {
    auto r = b.initJobLogsRequest();
    r.setJobId(text(v.job_id));
    r.setTaskIndex(v.task_index);
    r.setAttempt(v.attempt);
    r.setOffset(v.offset);
    r.setMaxBytes(v.max_bytes);
  }
  void operator()(const job_logs_reply& v) {
    auto r = b.initJobLogsReply();
    r.setAttemptId(text(v.attempt_id));
    r.setData(data(v.data));
    r.setNextOffset(v.next_offset);
    r.setComplete(v.complete);
  }
  void operator()(const start_task_request& v) {
    auto r = b.initStartTaskRequest();
    r.setJobId(text(v.job_id));
    r.setTaskIndex(v.task_index);
    put_launch(r.initLaunch(), v.launch);
    r.setAfterAttemptId(text(v.after_attempt_id));
  }
  void operator()(const kill_task_request& v) {
    auto r = b.initKillTaskRequest();
    r.setAttemptId(text(v.attempt_id));
    r.setReason(text(v.reason));
  }
  void operator()(const task_started& v) {
    auto r = b.initTaskStarted();
    r.setAttemptId(text(v.attempt_id));
    r.setPid(v.pid);
    r.setMasterPort(v.master_port);
    r.setStartedAtMs(v.started_at_ms);
  }
  void operator()(const task_output& v) {
    auto r = b.initTaskOutput();
    r.setAttemptId(text(v.attempt_id));
    r.setStream(cast_enum<wire::LogStream>(v.stream));
    r.setOffset(v.offset);
    r.setData(data(v.data));
  }
  void operator()(const task_finished& v) { put_finished(b.initTaskFinished(), v); }
  void operator()(const task_finished_ack& v) {
    b.initTaskFinishedAck().setAttemptId(text(v.attempt_id));
  }
  void operator()(const node_tasks& v) {
    auto r = b.initNodeTasks();
    put_texts(r.initRunning(static_cast<unsigned>(v.running.size())), v.running);
    auto finished = r.initFinished(static_cast<unsigned>(v.finished.size()));
    for (unsigned i = 0; i < v.finished.size(); ++i) put_finished(finished[i], v.finished[i]);
    put_texts(r.initWaiting(static_cast<unsigned>(v.waiting.size())), v.waiting);
  }
};

}  // namespace

void put(wire::JobsMessage::Builder b, const jobs_message& m) { std::visit(encoder{b}, m.body); }

std::optional<jobs_message> get(wire::JobsMessage::Reader r) {
  switch (r.which()) {
    case Which::SUBMIT_JOB_REQUEST: {
      auto s = r.getSubmitJobRequest();
      return jobs_message{submit_job_request{str(s.getSpec()), str(s.getClientRequestId())}};
    }
    case Which::SUBMIT_JOB_REPLY: {
      auto s = r.getSubmitJobReply();
      return jobs_message{submit_job_reply{str(s.getJobId()), s.getExisting()}};
    }
    case Which::LIST_JOBS_REQUEST: {
      auto l = r.getListJobsRequest();
      return jobs_message{list_jobs_request{str(l.getState()), str(l.getTenant()), l.getLimit()}};
    }
    case Which::LIST_JOBS_REPLY: {
      list_jobs_reply v;
      for (auto j : r.getListJobsReply().getJobs()) v.jobs.push_back(get_summary(j));
      return jobs_message{std::move(v)};
    }
    case Which::GET_JOB_REQUEST:
      return jobs_message{get_job_request{str(r.getGetJobRequest().getJobId())}};
    case Which::GET_JOB_REPLY: {
      auto g = r.getGetJobReply();
      get_job_reply v;
      v.job = get_summary(g.getJob());
      v.spec = str(g.getSpec());
      for (auto a : g.getAttempts()) v.attempts.push_back(get_attempt(a));
      for (auto t : g.getTransitions())
        v.transitions.push_back(
            {str(t.getFromState()), str(t.getToState()), str(t.getReason()), t.getAtMs()});
      return jobs_message{std::move(v)};
    }
    case Which::CANCEL_JOB_REQUEST:
      return jobs_message{cancel_job_request{str(r.getCancelJobRequest().getJobId())}};
    case Which::CANCEL_JOB_REPLY:
      return jobs_message{cancel_job_reply{str(r.getCancelJobReply().getState())}};
    case Which::JOB_LOGS_REQUEST: {
      auto l = r.getJobLogsRequest();
      return jobs_message{job_logs_request{str(l.getJobId()), l.getTaskIndex(), l.getAttempt(),
                                           l.getOffset(), l.getMaxBytes()}};
    }
    case Which::JOB_LOGS_REPLY: {
      auto l = r.getJobLogsReply();
      return jobs_message{job_logs_reply{str(l.getAttemptId()), bytes(l.getData()),
                                         l.getNextOffset(), l.getComplete()}};
    }
    case Which::START_TASK_REQUEST: {
      auto s = r.getStartTaskRequest();
      return jobs_message{start_task_request{str(s.getJobId()), s.getTaskIndex(),
                                             get_launch(s.getLaunch()),
                                             str(s.getAfterAttemptId())}};
    }
    case Which::KILL_TASK_REQUEST: {
      auto k = r.getKillTaskRequest();
      return jobs_message{kill_task_request{str(k.getAttemptId()), str(k.getReason())}};
    }
    case Which::TASK_STARTED: {
      auto s = r.getTaskStarted();
      return jobs_message{
          task_started{str(s.getAttemptId()), s.getPid(), s.getMasterPort(), s.getStartedAtMs()}};
    }
    case Which::TASK_OUTPUT: {
      auto o = r.getTaskOutput();
      return jobs_message{task_output{str(o.getAttemptId()),
                                      checked_enum(o.getStream(), log_stream::stderr_stream),
                                      o.getOffset(), bytes(o.getData())}};
    }
    case Which::TASK_FINISHED: return jobs_message{get_finished(r.getTaskFinished())};
    case Which::TASK_FINISHED_ACK:
      return jobs_message{task_finished_ack{str(r.getTaskFinishedAck().getAttemptId())}};
    case Which::NODE_TASKS: {
      auto n = r.getNodeTasks();
      node_tasks v;
      v.running = texts(n.getRunning());
      for (auto f : n.getFinished()) v.finished.push_back(get_finished(f));
      v.waiting = texts(n.getWaiting());
      return jobs_message{std::move(v)};
    }
  }
  return std::nullopt;
}

}  // namespace troupe::msg::jobs_codec
