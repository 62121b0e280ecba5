# The jobs area: submitting, watching and cancelling jobs (clients), and running their tasks
# (head <-> nodes). docs/protocol.md describes each flow; docs/jobs.md the job spec.
#
# Client flows (roles admin and submit; a submit key sees only its own tenant's jobs):
#   SubmitJobRequest -> SubmitJobReply      ListJobsRequest -> ListJobsReply
#   GetJobRequest -> GetJobReply            CancelJobRequest -> CancelJobReply
#   JobLogsRequest -> JobLogsReply
# Node flows (role node, only for attempts placed on that node):
#   head -> node: StartTaskRequest (now, or as a standby after an attempt), KillTaskRequest,
#   TaskFinishedAck
#   node -> head: TaskStarted, TaskOutput, TaskFinished (resent until acknowledged), and
#   NodeTasks after every registration (what the node runs and what it has not yet reported).
#
# Evolution rules as in envelope.capnp: append only, never renumber.
@0xd1f0a3c2b4e59687;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("troupe::wire");

struct JobsMessage {
  union {
    submitJobRequest @0 :SubmitJobRequest;
    submitJobReply @1 :SubmitJobReply;
    listJobsRequest @2 :ListJobsRequest;
    listJobsReply @3 :ListJobsReply;
    getJobRequest @4 :GetJobRequest;
    getJobReply @5 :GetJobReply;
    cancelJobRequest @6 :CancelJobRequest;
    cancelJobReply @7 :CancelJobReply;
    jobLogsRequest @8 :JobLogsRequest;
    jobLogsReply @9 :JobLogsReply;
    startTaskRequest @10 :StartTaskRequest;
    killTaskRequest @11 :KillTaskRequest;
    taskStarted @12 :TaskStarted;
    taskOutput @13 :TaskOutput;
    taskFinished @14 :TaskFinished;
    taskFinishedAck @15 :TaskFinishedAck;
    nodeTasks @16 :NodeTasks;
  }
}

# Submits a job. `spec` is the job spec as YAML or JSON text (docs/jobs.md), at most 1 MiB.
# A bad spec, or one no node of the cluster could ever run, is answered invalidRequest with a
# message that starts with the field's name ("resources.gpus: ..."); nothing is stored then.
# The reply comes once the job is stored.
struct SubmitJobRequest {
  spec @0 :Text;
  # Chosen by the client, unique per submission (e.g. a random UUID); empty: none. A second
  # submit with the same id in the same tenant returns the first job instead of a new one, so a
  # client may retry a submit whose reply it lost.
  clientRequestId @1 :Text;
}

struct SubmitJobReply {
  jobId @0 :Text;      # "j" + 16 lowercase hex digits
  existing @1 :Bool;   # the client request id named a job submitted before
}

struct ListJobsRequest {
  state @0 :Text;   # "PENDING" ... "CANCELLED", or empty for every state
  tenant @1 :Text;  # empty: every tenant the key may see
  limit @2 :UInt32; # the newest `limit` jobs; 0: 1000
}

struct ListJobsReply {
  jobs @0 :List(JobSummary);  # newest first
}

struct JobSummary {
  jobId @0 :Text;
  name @1 :Text;
  tenant @2 :Text;
  kind @3 :Text;
  state @4 :Text;          # PENDING, SCHEDULED, RUNNING, RETRYING, SUCCEEDED, FAILED, CANCELLED
  reason @5 :Text;         # why it is in that state, e.g. "exit code 3" or "node lost"
  priority @6 :Int32;
  tasks @7 :UInt32;
  attempts @8 :UInt32;     # attempt number of the latest attempt (0: none yet)
  submittedAtMs @9 :Int64; # Unix time in ms; 0: not yet
  startedAtMs @10 :Int64;
  finishedAtMs @11 :Int64;
  hasExitCode @12 :Bool;   # the job ended with an exit code (task 0's, or the first failing task's)
  exitCode @13 :Int32;
  nodes @14 :List(Text);   # names of the nodes its latest attempts run or ran on
}

struct GetJobRequest {
  jobId @0 :Text;
}

struct GetJobReply {
  job @0 :JobSummary;
  spec @1 :Text;                      # the stored spec, as JSON
  attempts @2 :List(AttemptInfo);     # every attempt of every task, oldest first
  transitions @3 :List(JobTransition);
}

struct AttemptInfo {
  attemptId @0 :Text;      # "<job id>.<task index>.<attempt number>"
  taskIndex @1 :UInt32;
  attempt @2 :UInt32;
  nodeId @3 :Text;
  nodeName @4 :Text;
  state @5 :Text;          # SCHEDULED, RUNNING, SUCCEEDED, FAILED, CANCELLED, LOST
  reason @6 :Text;
  hasExitCode @7 :Bool;
  exitCode @8 :Int32;
  hasSignal @9 :Bool;
  signal @10 :Int32;
  scheduledAtMs @11 :Int64;
  startedAtMs @12 :Int64;
  finishedAtMs @13 :Int64;
}

struct JobTransition {
  fromState @0 :Text;  # empty for the first
  toState @1 :Text;
  reason @2 :Text;
  atMs @3 :Int64;
}

# Cancels a job that has not ended: a queued one at once, a running one by killing its tasks
# (SIGTERM, then SIGKILL after a grace period). Cancelling an ended job changes nothing.
struct CancelJobRequest {
  jobId @0 :Text;
}

struct CancelJobReply {
  state @0 :Text;  # the job's state after the request (CANCELLED, or the final state it had)
}

# A task's output (stdout and stderr, interleaved as they reached the head), from `offset`.
struct JobLogsRequest {
  jobId @0 :Text;
  taskIndex @1 :UInt32;
  attempt @2 :UInt32;    # 0: the task's latest attempt
  offset @3 :UInt64;     # bytes already read
  maxBytes @4 :UInt32;   # at most this many bytes back; 0: 256 KiB (also the most)
}

struct JobLogsReply {
  attemptId @0 :Text;    # empty when the task has no attempt yet
  data @1 :Data;
  nextOffset @2 :UInt64;
  complete @3 :Bool;     # the attempt has ended and every byte of its output is in [0, nextOffset)
}

struct EnvVar {
  name @0 :Text;
  value @1 :Text;
}

# What a node runs for one task attempt (docs/task-runner.md).
struct TaskLaunch {
  attemptId @0 :Text;
  argv @1 :List(Text);
  env @2 :List(EnvVar);   # over the node daemon's own environment
  workdir @3 :Text;       # empty: a fresh directory of the attempt on the node
  cpus @4 :Float64;
  memoryLimitMb @5 :UInt64;  # 0: none
  timeoutMs @6 :UInt64;      # 0: none
  gpus @7 :List(UInt32);
  pickMasterPort @8 :Bool;   # bind a free port, export it as MASTER_PORT, report it in TaskStarted
  rankLink @9 :Bool;         # give the task a rank link (docs/training.md): TROUPE_RANK_LINK names
                             # its credential file
  tenant @10 :Text;          # the job's: what the rank link may fetch and publish for it
}

# Head -> node. The node answers TaskStarted, or TaskFinished when it could not start it. A
# second request for an attempt the node already runs changes nothing.
struct StartTaskRequest {
  jobId @0 :Text;
  taskIndex @1 :UInt32;
  launch @2 :TaskLaunch;
  # A standby (docs/scheduling.md): while this attempt runs on the node, the node keeps the
  # launch and starts it the moment that attempt ends. Empty, or an attempt the node does not
  # run: start now.
  afterAttemptId @3 :Text;
}

# Head -> node: kill the attempt's process group (SIGTERM, SIGKILL after a grace period). Sent
# for a cancel, and for any attempt the head no longer counts (fencing: a superseded attempt).
struct KillTaskRequest {
  attemptId @0 :Text;
  reason @1 :Text;
}

struct TaskStarted {
  attemptId @0 :Text;
  pid @1 :Int32;
  masterPort @2 :UInt16;   # the port picked for pickMasterPort, else 0
  startedAtMs @3 :Int64;
}

enum LogStream {
  stdout @0;
  stderr @1;
}

# A chunk of a running attempt's output; chunks of one stream come in order.
struct TaskOutput {
  attemptId @0 :Text;
  stream @1 :LogStream;
  offset @2 :UInt64;   # where the chunk starts in that stream
  data @3 :Data;       # at most 64 KiB
}

# Resent after every registration until the head answers TaskFinishedAck.
struct TaskFinished {
  attemptId @0 :Text;
  hasExitCode @1 :Bool;
  exitCode @2 :Int32;
  hasSignal @3 :Bool;
  signal @4 :Int32;
  reason @5 :Text;         # empty, "cancelled", "timeout", "memory limit exceeded", "could not start: ..."
  finishedAtMs @6 :Int64;
  stdoutBytes @7 :UInt64;  # the whole output's length per stream, so the head knows it has all of it
  stderrBytes @8 :UInt64;
}

struct TaskFinishedAck {
  attemptId @0 :Text;
}

# Node -> head after each registration: what it runs now, and the attempts that ended without
# an acknowledgement. The head kills what it no longer counts and retries what went missing.
struct NodeTasks {
  running @0 :List(Text);          # attempt ids
  finished @1 :List(TaskFinished);
  waiting @2 :List(Text);          # standbys kept until the attempt they follow ends
}
