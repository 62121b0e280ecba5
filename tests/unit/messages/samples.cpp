// Fixed sample values: every field differs from its default, lists hold several entries.
#include "samples.hpp"

#include <stdexcept>

namespace troupe::msg::test {

namespace {

resources sample_resources(int seed) {
  resources r;
  r.cpus = 15.5 + seed;
  r.memory_mb = 128'000 + static_cast<uint64_t>(seed);
  r.gpus = {{0, "NVIDIA H100 80GB HBM3", 81'559},
            {1, "NVIDIA H100 80GB HBM3", 81'559},
            {7, "NVIDIA RTX 4090", 24'564 + static_cast<uint64_t>(seed)}};
  return r;
}

labels sample_labels(int seed) {
  return {{"rack", "r" + std::to_string(seed)}, {"zone", "eu-west-1b"}, {"gpu", "h100"}};
}

// A CURVE public key's shape: 40 characters of Z85.
std::string sample_key(int seed) {
  return "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf" + std::to_string(seed % 10);
}

key_info sample_key_info(int seed) {
  key_info k;
  k.key_id = "0123456789abcde" + std::to_string(seed % 10);
  k.role = seed % 2 ? key_role::node : key_role::enroll;
  k.public_key = sample_key(seed);
  k.label = "worker-" + std::to_string(seed);
  k.node_id = "5f0e1d2c3b4a59687786950a1b2c3d4" + std::to_string(seed % 10);
  k.created_at_ms = 1'796'000'000'000 + seed;
  k.expires_at_ms = 1'796'000'360'000 + seed;
  k.revoked_at_ms = 1'796'000'100'000 + seed;
  k.tenant = "tenant-" + std::to_string(seed);
  return k;
}

app_token_info sample_app_token(int seed) {
  app_token_info t;
  t.name = "app-" + std::to_string(seed);
  t.role = seed % 2 ? app_token_role::manage : app_token_role::predict;
  t.tenant = "tenant-" + std::to_string(seed);
  t.rate_limit_per_s = 500u + static_cast<uint32_t>(seed);
  t.burst = 1000u + static_cast<uint32_t>(seed);
  t.created_at_ms = 1'796'000'000'000 + seed;
  t.revoked_at_ms = 1'796'000'200'000 + seed;
  return t;
}

body security(security_message m) { return body{std::move(m)}; }
body jobs(jobs_message m) { return body{std::move(m)}; }
body artifacts(artifacts_message m) { return body{std::move(m)}; }

artifact_info sample_artifact(int seed) {
  return {"txn-train-" + std::to_string(seed),
          "research",
          artifact_kind::checkpoint,
          "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0" + std::to_string(seed),
          1'099'511'627'776ULL + static_cast<uint64_t>(seed),
          1'796'000'000'000 + seed,
          "j0123456789abcdef"};
}
body models(models_message m) { return body{std::move(m)}; }

model_summary sample_model(int seed) {
  return {"txn-category-" + std::to_string(seed),
          "research",
          uint32_t(7 + seed),
          uint32_t(6 + seed),
          uint32_t(5 + seed),
          uint32_t(4 + seed),
          1'796'000'000'000 + seed};
}

model_version sample_version(int seed) {
  model_version v;
  v.name = "txn-category";
  v.version = uint32_t(3 + seed);
  v.tenant = "research";
  v.job_id = "j0123456789abcde" + std::to_string(seed % 10);
  v.artifact_digest =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0" + std::to_string(seed % 10);
  v.final_metrics_json = R"({"val_loss":0.31,"accuracy":0.9})";
  v.best_metrics_json = R"({"val_loss":0.29,"epoch":4})";
  v.params_json = seed % 2 ? "" : R"({"kind":"train","epochs":5})";
  v.dataset_fingerprint = "sha256:" + std::string(64, 'd');
  v.stage = seed % 2 ? models::stage::archived : models::stage::production;
  v.created_at_ms = 1'796'000'000'000 + seed;
  v.input_features = uint32_t(60 + seed);
  v.output_kind = seed % 2 ? models::output_kind::values : models::output_kind::logits;
  if (seed % 2 == 0) v.classes = {"food", "rent", "travel"};
  return v;
}

stage_change sample_change(int seed) {
  return {uint32_t(3 + seed), models::stage::staging, models::stage::production,
          "0123456789abcde" + std::to_string(seed % 10), 1'796'000'000'000 + seed};
}

body training(training_message m) { return body{std::move(m)}; }
body inference(inference_message m) { return body{std::move(m)}; }

inference::model_signature sample_signature(int seed) {
  return {uint32_t(52 + seed),
          seed % 2 ? inference::output_kind::logits : inference::output_kind::values,
          {"groceries", "rent", "travel-" + std::to_string(seed)}};
}

inference::service_status sample_service(int seed) {
  inference::service_status s;
  s.name = "txn-category-" + std::to_string(seed);
  s.tenant = "research";
  s.job_id = "j0123456789abcde" + std::to_string(seed % 10);
  s.model = "txn-category@production";
  s.replicas = 2 + uint32_t(seed);
  s.ready_replicas = 1 + uint32_t(seed);
  s.versions = {{3, 90, 2, sample_signature(seed), "", 1'000'000'000'000ULL + uint64_t(seed)},
                {4, 10, 0, sample_signature(seed + 1), "not a TorchScript file", 7}};
  s.auth = {seed % 2 == 0, 500.0 + seed, 1000};
  s.cache = {100'000u + uint64_t(seed), 60};
  return s;
}

step_metric sample_step(int seed) {
  return {static_cast<uint32_t>(seed),
          1'000u + static_cast<uint64_t>(seed),
          0.25 * seed,
          0.05,
          98'765.5,
          1'796'000'000'000 + seed};
}

epoch_metric sample_epoch(int seed, bool classification) {
  epoch_metric e;
  e.epoch = static_cast<uint32_t>(seed);
  e.train_loss = 0.5 / seed;
  e.val_loss = 0.75 / seed;
  if (classification)
    e.val_accuracy = 0.875;
  else
    e.val_mae = 1.5;
  e.at_ms = 1'796'000'100'000 + seed;
  return e;
}

job_summary sample_job(int seed) {
  job_summary j;
  j.job_id = "j0123456789abcde" + std::to_string(seed % 10);
  j.name = "nightly-etl-" + std::to_string(seed);
  j.tenant = "research";
  j.kind = "command";
  j.state = seed % 2 ? "FAILED" : "RUNNING";
  j.reason = seed % 2 ? "exit code 3" : "";
  j.priority = -5 + seed;
  j.tasks = 2;
  j.attempts = 3;
  j.submitted_at_ms = 1'796'000'000'000 + seed;
  j.started_at_ms = 1'796'000'000'500 + seed;
  j.finished_at_ms = seed % 2 ? 1'796'000'009'000 + seed : 0;
  if (seed % 2) j.exit_code = 3;
  j.nodes = {"worker-1", "gpu-box"};
  return j;
}

msg::task_finished sample_finished(int seed) {
  msg::task_finished f;
  f.attempt_id = "j0123456789abcdef." + std::to_string(seed % 4) + ".2";
  if (seed % 2) {
    f.exit.signal = 9;
    f.exit.reason = "memory limit exceeded";
  } else {
    f.exit.exit_code = 0;
  }
  f.finished_at_ms = 1'796'000'009'000 + seed;
  f.stdout_bytes = 4096 + static_cast<uint64_t>(seed);
  f.stderr_bytes = 17;
  return f;
}

envelope with(uint64_t request_id, std::string sender, body b) {
  envelope env;
  env.request_id = request_id;
  env.sender = std::move(sender);
  env.body = std::move(b);
  return env;
}

}  // namespace

node_status sample_node(int seed) {
  node_status n;
  n.node_id = "node-" + std::to_string(seed) + "-5f1c9e";
  n.name = "worker-" + std::to_string(seed);
  n.state = node_state::draining;
  n.incarnation = 40 + static_cast<uint64_t>(seed);
  n.addresses = {"tcp://10.0.0." + std::to_string(seed) + ":7100", "tcp://[fd00::1]:7100",
                 "ipc:///run/troupe/agent.sock"};
  n.resources = sample_resources(seed);
  n.free = {3.25, 64'000, 2};
  n.load = {1.75, 48'128, 9};
  n.labels = sample_labels(seed);
  n.last_heartbeat_ms_ago = 1'250;
  n.state_since_ms_ago = 86'400'000;
  n.draining = true;
  n.is_head = true;
  n.version = "0.1.0-" + std::to_string(seed);
  return n;
}

std::vector<sample> samples() {
  register_node_request reg;
  reg.node_id = "node-1-5f1c9e";
  reg.name = "worker-1";
  reg.incarnation = 0x0123'4567'89ab'cdefULL;
  reg.addresses = {"tcp://10.0.0.1:7100", "tcp://[fd00::1]:7100", "ipc:///run/troupe.sock"};
  reg.resources = sample_resources(1);
  reg.labels = sample_labels(1);
  reg.version = "0.1.0";

  heartbeat hb;
  hb.node_id = "node-2-77aa01";
  hb.incarnation = 12;
  hb.sequence = 987'654'321;
  hb.load = {0.625, 31'000, 4};
  hb.free = {6.5, 90'000, 1};

  cluster_status_reply status;
  status.head_version = "0.1.0-head";
  status.head_uptime_ms = 3'600'123;
  status.nodes_alive = 11;
  status.nodes_suspect = 2;
  status.nodes_dead = 3;
  status.nodes_draining = 4;
  status.nodes_left = 5;
  status.total = {176.0, 1'536'000, 24};
  status.available = {42.5, 512'000, 7};
  status.malformed_messages = 17;

  // Each sample uses a distinct request id and sender, so files cannot be swapped unnoticed.
  return {
      {"error", with(101, "head", error{error_code::conflict, "stale incarnation 3 (now 4)"})},
      {"unimplemented", with(102, "head", unimplemented{29})},
      {"register_node_request", with(103, "node-1-5f1c9e", reg)},
      {"register_node_reply", with(104, "head", register_node_reply{2'500, true})},
      {"heartbeat", with(105, "node-2-77aa01", hb)},
      {"heartbeat_rejected",
       with(106, "head", heartbeat_rejected{heartbeat_reject_reason::stale_incarnation, 13})},
      {"deregister_node",
       with(107, "node-3-c0ffee", deregister_node{"node-3-c0ffee", 8, "shutting down: SIGTERM"})},
      {"cluster_status_request", with(108, "troupe-cli", cluster_status_request{})},
      {"cluster_status_reply", with(109, "head", status)},
      {"node_list_request", with(110, "troupe-cli", node_list_request{})},
      {"node_list_reply",
       with(111, "head", node_list_reply{{sample_node(1), sample_node(2), sample_node(3)}})},
      {"drain_node_request", with(112, "troupe-cli", drain_node_request{"worker-4", false})},
      {"drain_node_reply", with(113, "head", drain_node_reply{sample_node(4)})},
      {"remove_node_request", with(114, "troupe-cli", remove_node_request{"worker-5"})},
      {"remove_node_reply",
       with(115, "head", remove_node_reply{"5f0e1d2c3b4a59687786950a1b2c3d4e", "worker-5"})},
      // The security area: one member of the envelope, one sample per kind inside it.
      {"security.enroll_node_request",
       with(116, "node-3-c0ffee",
            security({enroll_node_request{"5f0e1d2c3b4a59687786950a1b2c3d4e", sample_key(1),
                                          "worker-5"}}))},
      {"security.enroll_node_reply",
       with(117, "head", security({enroll_node_reply{"a1b2c3d4e5f60718"}}))},
      {"security.create_join_token_request",
       with(118, "troupe-cli", security({create_join_token_request{7200}}))},
      {"security.create_join_token_reply",
       with(119, "head",
            security({create_join_token_reply{
                "troupe1." + std::string(64, 'a') + "." + std::string(64, 'b'), "0f1e2d3c4b5a6978",
                1'796'000'000'123}}))},
      {"security.create_credential_request",
       with(120, "troupe-cli",
            security({create_credential_request{key_role::node, sample_key(2), "alice laptop",
                                                "ml-research.team_1"}}))},
      {"security.create_credential_reply",
       with(121, "head", security({create_credential_reply{"8899aabbccddeeff"}}))},
      {"security.key_list_request", with(122, "troupe-cli", security({key_list_request{}}))},
      {"security.key_list_reply",
       with(123, "head", security({key_list_reply{{sample_key_info(1), sample_key_info(2)}}}))},
      {"security.revoke_key_request",
       with(124, "troupe-cli", security({revoke_key_request{"8899aabbccddeeff"}}))},
      {"security.revoke_key_reply",
       with(125, "head", security({revoke_key_reply{sample_key_info(3)}}))},
      {"security.create_app_token_request",
       with(126, "troupe-cli",
            security(
                {create_app_token_request{"app1", app_token_role::manage, "finance", 500, 1000}}))},
      {"security.create_app_token_reply",
       with(126, "head",
            security(
                {create_app_token_reply{sample_app_token(1), "troupe_" + std::string(64, 'c')}}))},
      {"security.app_token_list_request",
       with(127, "troupe-cli", security({app_token_list_request{}}))},
      {"security.app_token_list_reply",
       with(127, "head",
            security({app_token_list_reply{{sample_app_token(2), sample_app_token(3)}}}))},
      {"security.revoke_app_token_request",
       with(128, "troupe-cli", security({revoke_app_token_request{"app1"}}))},
      {"security.revoke_app_token_reply",
       with(128, "head", security({revoke_app_token_reply{sample_app_token(4)}}))},
      // The jobs area.
      {"jobs.submit_job_request",
       with(130, "troupe-cli",
            jobs({submit_job_request{"name: etl\nkind: command\nargv: [\"true\"]\n",
                                     "6f1c2e9a-5b7d-4c3e-9f10-2a4b6c8d0e1f"}}))},
      {"jobs.submit_job_reply",
       with(130, "head", jobs({submit_job_reply{"j0123456789abcdef", true}}))},
      {"jobs.list_jobs_request",
       with(131, "troupe-cli", jobs({list_jobs_request{"RUNNING", "research", 50}}))},
      {"jobs.list_jobs_reply",
       with(131, "head", jobs({list_jobs_reply{{sample_job(1), sample_job(2)}}}))},
      {"jobs.get_job_request",
       with(132, "troupe-cli", jobs({get_job_request{"j0123456789abcdef"}}))},
      {"jobs.get_job_reply",
       with(132, "head",
            jobs({get_job_reply{sample_job(3),
                                "{\"kind\":\"command\",\"name\":\"etl\"}",
                                {{"j0123456789abcdef.0.1", 0, 1, "5f0e1d2c3b4a59687786950a1b2c3d4e",
                                  "worker-1", "LOST", "node lost", std::nullopt, 9,
                                  1'796'000'000'100, 1'796'000'000'200, 1'796'000'001'000},
                                 {"j0123456789abcdef.0.2", 0, 2, "6a0e1d2c3b4a59687786950a1b2c3d4e",
                                  "gpu-box", "SUCCEEDED", "", 0, std::nullopt, 1'796'000'002'000,
                                  1'796'000'002'100, 1'796'000'003'000}},
                                {{"", "PENDING", "submitted", 1'796'000'000'000},
                                 {"PENDING", "SCHEDULED", "placed", 1'796'000'000'100}}}}))},
      {"jobs.cancel_job_request",
       with(133, "troupe-cli", jobs({cancel_job_request{"j0123456789abcdef"}}))},
      {"jobs.cancel_job_reply", with(133, "head", jobs({cancel_job_reply{"CANCELLED"}}))},
      {"jobs.job_logs_request",
       with(134, "troupe-cli", jobs({job_logs_request{"j0123456789abcdef", 1, 0, 65536, 4096}}))},
      {"jobs.job_logs_reply",
       with(134, "head",
            jobs({job_logs_reply{"j0123456789abcdef.1.1", std::string("line\n\0\xff", 7), 65543,
                                 true}}))},
      {"jobs.start_task_request",
       with(135, "head",
            jobs({start_task_request{"j0123456789abcdef", 1,
                                     jobs::task_launch{"j0123456789abcdef.1.1",
                                                       {"python3", "train.py", "--epochs", "3"},
                                                       {{"LOG_LEVEL", "info"}, {"RANK", "1"}},
                                                       "/srv/etl",
                                                       2.5,
                                                       512,
                                                       3'600'000,
                                                       {0, 1},
                                                       true,
                                                       false,
                                                       "research"},
                                     "j1123456789abcdef.0.2"}}))},
      {"jobs.kill_task_request",
       with(136, "head", jobs({kill_task_request{"j0123456789abcdef.1.1", "cancelled"}}))},
      {"jobs.task_started",
       with(137, "worker-1",
            jobs({task_started{"j0123456789abcdef.1.1", 4242, 29500, 1'796'000'000'200}}))},
      {"jobs.task_output",
       with(138, "worker-1",
            jobs({task_output{"j0123456789abcdef.1.1", log_stream::stderr_stream, 1024,
                              "Traceback (most recent call last):\n"}}))},
      {"jobs.task_finished", with(139, "worker-1", jobs({sample_finished(1)}))},
      {"jobs.task_finished_ack",
       with(139, "head", jobs({task_finished_ack{"j0123456789abcdef.1.1"}}))},
      {"jobs.node_tasks", with(140, "worker-1",
                               jobs({node_tasks{{"j0123456789abcdef.0.1", "j1123456789abcdef.0.3"},
                                                {sample_finished(2), sample_finished(3)},
                                                {"j2123456789abcdef.0.1"}}}))},
      // The artifacts area.
      {"artifacts.begin_upload_request",
       with(150, "troupe-cli",
            artifacts({begin_upload_request{"txn-train", "research", artifact_kind::model,
                                            4'294'967'297ULL, sample_artifact(1).digest,
                                            "j0123456789abcdef"}}))},
      {"artifacts.begin_upload_reply",
       with(150, "head",
            artifacts(
                {begin_upload_reply{"00112233445566778899aabbccddeeff", 1'048'576, 524'288}}))},
      {"artifacts.upload_chunk_request",
       with(151, "troupe-cli",
            artifacts({upload_chunk_request{"00112233445566778899aabbccddeeff", 1'048'576,
                                            std::string("a,b\n1,2\n\0\xff", 10)}}))},
      {"artifacts.upload_chunk_reply",
       with(151, "head", artifacts({upload_chunk_reply{1'048'586}}))},
      {"artifacts.commit_upload_request",
       with(152, "troupe-cli",
            artifacts({commit_upload_request{"00112233445566778899aabbccddeeff"}}))},
      {"artifacts.commit_upload_reply",
       with(152, "head", artifacts({commit_upload_reply{sample_artifact(2)}}))},
      {"artifacts.abort_upload_request",
       with(153, "worker-1",
            artifacts({abort_upload_request{"ffeeddccbbaa99887766554433221100"}}))},
      {"artifacts.abort_upload_reply", with(153, "head", artifacts({abort_upload_reply{}}))},
      {"artifacts.list_artifacts_request",
       with(154, "troupe-cli", artifacts({list_artifacts_request{"research", true}}))},
      {"artifacts.list_artifacts_reply",
       with(154, "head",
            artifacts({list_artifacts_reply{{sample_artifact(3), sample_artifact(4)}}}))},
      {"artifacts.download_chunk_request",
       with(155, "worker-2",
            artifacts({download_chunk_request{"txn-train", "research", sample_artifact(5).digest,
                                              2'097'152, 262'144}}))},
      {"artifacts.download_chunk_reply",
       with(155, "head",
            artifacts({download_chunk_reply{sample_artifact(5), 2'097'152,
                                            std::string("\x00\x01\x02rows", 7)}}))},
      // The models area.
      {"models.list_models_request",
       with(141, "troupe-cli", models({list_models_request{"research", 20}}))},
      {"models.list_models_reply",
       with(141, "head", models({list_models_reply{{sample_model(1), sample_model(2)}}}))},
      {"models.get_model_request",
       with(142, "troupe-cli",
            models({get_model_request{"txn-category", 0, models::stage::staging}}))},
      {"models.get_model_reply",
       with(142, "head",
            models({get_model_reply{sample_model(3),
                                    {sample_version(1), sample_version(2)},
                                    {sample_change(1), sample_change(2)}}}))},
      {"models.promote_model_request",
       with(143, "troupe-cli",
            models({promote_model_request{"txn-category", 4, models::stage::production}}))},
      {"models.promote_model_reply",
       with(
           143, "head",
           models({promote_model_reply{sample_version(2), {sample_change(3), sample_change(4)}}}))},
      {"models.import_model_request",
       with(144, "troupe-cli",
            models({import_model_request{"txn-category",
                                         "research",
                                         sample_artifact(9).digest,
                                         52,
                                         models::output_kind::probabilities,
                                         {"groceries", "rent", "travel"}}}))},
      {"models.import_model_reply", with(144, "head", models({import_model_reply{[] {
                                           auto v = sample_version(5);
                                           v.job_id.clear();
                                           v.input_features = 52;
                                           v.output_kind = models::output_kind::probabilities;
                                           v.classes = {"groceries", "rent", "travel"};
                                           v.source = models::model_source::imported;
                                           return v;
                                         }()}}))},
      // The training area.
      {"training.rendezvous_set_request",
       with(150, "rank-0",
            training({rendezvous_set_request{"j0123456789abcdef.0.2", "/default_pg/0//rank_0",
                                             std::string("\x01\x00"
                                                         "addr\xff",
                                                         7)}}))},
      {"training.rendezvous_set_reply", with(150, "head", training({rendezvous_set_reply{}}))},
      {"training.rendezvous_get_request",
       with(151, "rank-1",
            training({rendezvous_get_request{"j0123456789abcdef.1.2", "/default_pg/0//rank_0",
                                             30'000}}))},
      {"training.rendezvous_get_reply", with(151, "head",
                                             training({rendezvous_get_reply{std::string("\x01\x00"
                                                                                        "addr\xff",
                                                                                        7)}}))},
      {"training.metrics_report",
       with(152, "rank-0",
            training({metrics_report{"j0123456789abcdef.0.2",
                                     {sample_step(1), sample_step(2)},
                                     {sample_epoch(1, true), sample_epoch(2, false)}}}))},
      {"training.job_metrics_request",
       with(153, "troupe-cli", training({job_metrics_request{"j0123456789abcdef", 40, 500}}))},
      {"training.job_metrics_reply",
       with(153, "head",
            training({job_metrics_reply{{{41, "j0123456789abcdef.0.2", sample_step(3)},
                                         {42, "j0123456789abcdef.0.2", sample_epoch(3, true)}},
                                        43,
                                        "RUNNING"}}))},
      {"training.fetch_artifact_request",
       with(154, "rank-1",
            training({fetch_artifact_request{"j0123456789abcdef.1.2", "txn-train",
                                             sample_artifact(6).digest, 600'000, 1'048'576,
                                             4'194'304}}))},
      {"training.fetch_artifact_reply",
       with(154, "worker-2",
            training({fetch_artifact_reply{
                sample_artifact(6), "/var/lib/troupe/artifacts/" + sample_artifact(6).digest}}))},
      {"training.publish_artifact_request",
       with(155, "rank-0",
            training({publish_artifact_request{"j0123456789abcdef.0.2", "model/model.pt",
                                               "j0123456789abcdef/model", artifact_kind::model,
                                               120'000}}))},
      {"training.publish_artifact_reply",
       with(155, "worker-1", training({publish_artifact_reply{sample_artifact(7)}}))},
      {"training.register_model_request",
       with(156, "rank-0",
            training({register_model_request{"j0123456789abcdef.0.2",
                                             sample_artifact(8).digest,
                                             R"({"val_loss":0.31})",
                                             R"({"val_loss":0.29})",
                                             "sha256:" + std::string(64, 'e'),
                                             64,
                                             {"food", "rent"}}}))},
      {"training.register_model_reply",
       with(156, "head", training({register_model_reply{"txn-category", 4}}))},
      {"training.assemble_dataset_request",
       with(157, "rank-0",
            training(
                {assemble_dataset_request{"j0123456789abcdef.0.2",
                                          "txn-scores",
                                          {{"j0123456789abcdef/part-0", ""},
                                           {"j0123456789abcdef/part-1", sample_artifact(9).digest}},
                                          600'000}}))},
      {"training.assemble_dataset_reply",
       with(157, "head", training({assemble_dataset_reply{sample_artifact(9)}}))},
      // The inference area.
      {"inference.predict_request", with(160, "troupe-cli",
                                         inference(
                                             {predict_request{"txn-category",
                                                              3,
                                                              2,
                                                              {0.5f, -1.25f, 3e-8f, 1e30f},
                                                              "user-1234",
                                                              "j0123456789abcdef.1.2"}}))},
      {"inference.predict_reply",
       with(160, "head",
            inference({predict_reply{
                "txn-category", 3, 2, 3, {0.25f, 0.5f, 0.25f, 0.125f, 0.125f, 0.75f}}}))},
      {"inference.list_services_request",
       with(161, "troupe-cli", inference({list_services_request{"research"}}))},
      {"inference.list_services_reply",
       with(161, "head", inference({list_services_reply{{sample_service(1), sample_service(2)}}}))},
      {"inference.resolve_service_request",
       with(162, "replica-0", inference({resolve_service_request{"j0123456789abcdef.0.2"}}))},
      {"inference.resolve_service_reply",
       with(162, "head",
            inference(
                {resolve_service_reply{"txn-category",
                                       {{3, sample_artifact(3).digest, sample_signature(1), 90},
                                        {4, sample_artifact(4).digest, sample_signature(2), 10}},
                                       "txn-category-svc"}}))},
      {"inference.replica_report",
       with(163, "replica-0",
            inference({replica_report{
                "j0123456789abcdef.0.2",
                {{3, "", 7, {120, 64, 0, 9, 1}, 5000}, {4, "not a TorchScript file", 0, {}, 0}},
                "tcp://gpu-1:40123",
                "rq:A8{Vzg0X]*E2W7P8hL#Zo.Kw2k)g1uhDb[aA>z"}}))},
      {"inference.replica_report_reply", with(163, "head", inference({replica_report_reply{}}))},
  };
}

envelope sample_of(const std::string& kind) {
  for (auto& s : samples()) {
    if (s.kind == kind) return std::move(s.env);
  }
  throw std::invalid_argument("no sample of kind " + kind);
}

std::string kind_name(failure_kind kind) {
  switch (kind) {
    case failure_kind::malformed: return "malformed";
    case failure_kind::too_large: return "too_large";
    case failure_kind::wrong_version: return "wrong_version";
    case failure_kind::unknown_body: return "unknown_body";
  }
  return "unknown failure_kind " + std::to_string(static_cast<int>(kind));
}

decode_result decode_string(const std::string& bytes, const decode_limits& limits) {
  return decode(bytes.data(), bytes.size(), limits);
}

}  // namespace troupe::msg::test
