#include "tests/fuzz/texts.hpp"

namespace troupe::fuzz {
namespace {

struct collector {
  std::vector<const std::string*>& out;

  void add(const std::string& s) { out.push_back(&s); }
  void add(const std::vector<std::string>& list) {
    for (const auto& s : list) add(s);
  }
  void add(const msg::labels& labels) {
    for (const auto& [key, value] : labels) {
      add(key);
      add(value);
    }
  }
  void add(const msg::resources& r) {
    for (const auto& gpu : r.gpus) add(gpu.name);
  }
  void add(const msg::node_status& n) {
    add(n.node_id);
    add(n.name);
    add(n.addresses);
    add(n.resources);
    add(n.labels);
    add(n.version);
  }

  void operator()(const msg::error& v) { add(v.message); }
  void operator()(const msg::unimplemented&) {}
  void operator()(const msg::register_node_request& v) {
    add(v.node_id);
    add(v.name);
    add(v.addresses);
    add(v.resources);
    add(v.labels);
    add(v.version);
  }
  void operator()(const msg::register_node_reply&) {}
  void operator()(const msg::heartbeat& v) { add(v.node_id); }
  void operator()(const msg::heartbeat_rejected&) {}
  void operator()(const msg::deregister_node& v) {
    add(v.node_id);
    add(v.reason);
  }
  void operator()(const msg::cluster_status_request&) {}
  void operator()(const msg::cluster_status_reply& v) { add(v.head_version); }
  void operator()(const msg::node_list_request&) {}
  void operator()(const msg::node_list_reply& v) {
    for (const auto& n : v.nodes) add(n);
  }
  void operator()(const msg::drain_node_request& v) { add(v.node); }
  void operator()(const msg::drain_node_reply& v) { add(v.node); }
  void operator()(const msg::remove_node_request& v) { add(v.node); }
  void operator()(const msg::remove_node_reply& v) {
    add(v.node_id);
    add(v.name);
  }
  // The security area.
  void add(const msg::key_info& k) {
    add(k.key_id);
    add(k.public_key);
    add(k.label);
    add(k.node_id);
    add(k.tenant);
  }
  void operator()(const msg::security_message& m) { std::visit(*this, m.body); }
  void operator()(const msg::enroll_node_request& v) {
    add(v.node_id);
    add(v.public_key);
    add(v.name);
  }
  void operator()(const msg::enroll_node_reply& v) { add(v.key_id); }
  void operator()(const msg::create_join_token_request&) {}
  void operator()(const msg::create_join_token_reply& v) {
    add(v.token);
    add(v.key_id);
  }
  void operator()(const msg::create_credential_request& v) {
    add(v.public_key);
    add(v.label);
    add(v.tenant);
  }
  void operator()(const msg::create_credential_reply& v) { add(v.key_id); }
  void operator()(const msg::key_list_request&) {}
  void operator()(const msg::key_list_reply& v) {
    for (const auto& k : v.keys) add(k);
  }
  void operator()(const msg::revoke_key_request& v) { add(v.key_id); }
  void operator()(const msg::revoke_key_reply& v) { add(v.key); }
  void add(const msg::app_token_info& t) {
    add(t.name);
    add(t.tenant);
  }
  void operator()(const msg::create_app_token_request& v) {
    add(v.name);
    add(v.tenant);
  }
  void operator()(const msg::create_app_token_reply& v) {
    add(v.token);
    add(v.secret);
  }
  void operator()(const msg::app_token_list_request&) {}
  void operator()(const msg::app_token_list_reply& v) {
    for (const auto& t : v.tokens) add(t);
  }
  void operator()(const msg::revoke_app_token_request& v) { add(v.name); }
  void operator()(const msg::revoke_app_token_reply& v) { add(v.token); }
  // The jobs area.
  void add(const msg::job_summary& j) {
    for (const auto* t : {&j.job_id, &j.name, &j.tenant, &j.kind, &j.state, &j.reason}) add(*t);
    add(j.nodes);
  }
  void add(const msg::task_finished& f) {
    add(f.attempt_id);
    add(f.exit.reason);
  }
  void operator()(const msg::jobs_message& m) { std::visit(*this, m.body); }
  void operator()(const msg::submit_job_request& v) {
    add(v.spec);
    add(v.client_request_id);
  }
  void operator()(const msg::submit_job_reply& v) { add(v.job_id); }
  void operator()(const msg::list_jobs_request& v) {
    add(v.state);
    add(v.tenant);
  }
  void operator()(const msg::list_jobs_reply& v) {
    for (const auto& j : v.jobs) add(j);
  }
  void operator()(const msg::get_job_request& v) { add(v.job_id); }
  void operator()(const msg::get_job_reply& v) {
    add(v.job);
    add(v.spec);
    for (const auto& a : v.attempts)
      for (const auto* t : {&a.attempt_id, &a.node_id, &a.node_name, &a.state, &a.reason}) add(*t);
    for (const auto& t : v.transitions)
      for (const auto* x : {&t.from_state, &t.to_state, &t.reason}) add(*x);
  }
  void operator()(const msg::cancel_job_request& v) { add(v.job_id); }
  void operator()(const msg::cancel_job_reply& v) { add(v.state); }
  void operator()(const msg::job_logs_request& v) { add(v.job_id); }
  void operator()(const msg::job_logs_reply& v) { add(v.attempt_id); }  // data is bytes
  void operator()(const msg::start_task_request& v) {
    add(v.job_id);
    add(v.launch.attempt_id);
    add(v.launch.argv);
    for (const auto& [name, value] : v.launch.env) {
      add(name);
      add(value);
    }
    add(v.launch.workdir);
    add(v.launch.tenant);
  }
  void operator()(const msg::kill_task_request& v) {
    add(v.attempt_id);
    add(v.reason);
  }
  void operator()(const msg::task_started& v) { add(v.attempt_id); }
  void operator()(const msg::task_output& v) { add(v.attempt_id); }  // data is bytes
  void operator()(const msg::task_finished& v) { add(v); }
  void operator()(const msg::task_finished_ack& v) { add(v.attempt_id); }
  void operator()(const msg::node_tasks& v) {
    add(v.running);
    for (const auto& f : v.finished) add(f);
  }
  // The artifacts area (chunk data is bytes).
  void add(const msg::artifact_info& a) {
    for (const auto* t : {&a.name, &a.tenant, &a.digest, &a.job_id}) add(*t);
  }
  void operator()(const msg::artifacts_message& m) { std::visit(*this, m.body); }
  void operator()(const msg::begin_upload_request& v) {
    for (const auto* t : {&v.name, &v.tenant, &v.digest, &v.job_id}) add(*t);
  }
  void operator()(const msg::begin_upload_reply& v) { add(v.upload_id); }
  void operator()(const msg::upload_chunk_request& v) { add(v.upload_id); }
  void operator()(const msg::upload_chunk_reply&) {}
  void operator()(const msg::commit_upload_request& v) { add(v.upload_id); }
  void operator()(const msg::commit_upload_reply& v) { add(v.artifact); }
  void operator()(const msg::abort_upload_request& v) { add(v.upload_id); }
  void operator()(const msg::abort_upload_reply&) {}
  void operator()(const msg::list_artifacts_request& v) { add(v.tenant); }
  void operator()(const msg::list_artifacts_reply& v) {
    for (const auto& a : v.artifacts) add(a);
  }
  void operator()(const msg::download_chunk_request& v) {
    for (const auto* t : {&v.name, &v.tenant, &v.digest}) add(*t);
  }
  void operator()(const msg::download_chunk_reply& v) { add(v.artifact); }
  // The models area.
  void add(const msg::model_summary& m) {
    add(m.name);
    add(m.tenant);
  }
  void add(const msg::model_version& v) {
    for (const auto* t : {&v.name, &v.tenant, &v.job_id, &v.artifact_digest, &v.final_metrics_json,
                          &v.best_metrics_json, &v.params_json, &v.dataset_fingerprint})
      add(*t);
    for (const auto& c : v.classes) add(c);
  }
  void operator()(const msg::models_message& m) { std::visit(*this, m.body); }
  void operator()(const msg::list_models_request& v) { add(v.tenant); }
  void operator()(const msg::list_models_reply& v) {
    for (const auto& m : v.models) add(m);
  }
  void operator()(const msg::get_model_request& v) { add(v.name); }
  void operator()(const msg::get_model_reply& v) {
    add(v.model);
    for (const auto& version : v.versions) add(version);
    for (const auto& c : v.stage_changes) add(c.changed_by);
  }
  void operator()(const msg::promote_model_request& v) { add(v.name); }
  void operator()(const msg::promote_model_reply& v) {
    add(v.version);
    for (const auto& c : v.changes) add(c.changed_by);
  }
  void operator()(const msg::import_model_request& v) {
    for (const auto* t : {&v.name, &v.tenant, &v.artifact_digest}) add(*t);
    for (const auto& c : v.classes) add(c);
  }
  void operator()(const msg::import_model_reply& v) { add(v.version); }
  // The training area (rendezvous values are bytes).
  void operator()(const msg::training_message& m) { std::visit(*this, m.body); }
  void operator()(const msg::rendezvous_set_request& v) {
    add(v.attempt_id);
    add(v.key);
  }
  void operator()(const msg::rendezvous_set_reply&) {}
  void operator()(const msg::rendezvous_get_request& v) {
    add(v.attempt_id);
    add(v.key);
  }
  void operator()(const msg::rendezvous_get_reply&) {}
  void operator()(const msg::metrics_report& v) { add(v.attempt_id); }
  void operator()(const msg::job_metrics_request& v) { add(v.job_id); }
  void operator()(const msg::job_metrics_reply& v) {
    for (const auto& e : v.entries) add(e.attempt_id);
    add(v.job_state);
  }
  void operator()(const msg::fetch_artifact_request& v) {
    for (const auto* t : {&v.attempt_id, &v.name, &v.digest}) add(*t);
  }
  void operator()(const msg::fetch_artifact_reply& v) {
    add(v.artifact);
    add(v.path);
  }
  void operator()(const msg::publish_artifact_request& v) {
    for (const auto* t : {&v.attempt_id, &v.path, &v.name}) add(*t);
  }
  void operator()(const msg::publish_artifact_reply& v) { add(v.artifact); }
  void operator()(const msg::register_model_request& v) {
    for (const auto* t : {&v.attempt_id, &v.artifact_digest, &v.final_metrics_json,
                          &v.best_metrics_json, &v.dataset_fingerprint})
      add(*t);
    for (const auto& c : v.classes) add(c);
  }
  void operator()(const msg::register_model_reply& v) { add(v.name); }
  void operator()(const msg::assemble_dataset_request& v) {
    add(v.attempt_id);
    add(v.name);
    for (const auto& p : v.parts) {
      add(p.name);
      add(p.digest);
    }
  }
  void operator()(const msg::assemble_dataset_reply& v) { add(v.artifact); }
  // The inference area (features and outputs are numbers).
  void add(const inference::model_signature& s) {
    for (const auto& c : s.classes) add(c);
  }
  void operator()(const msg::inference_message& m) { std::visit(*this, m.body); }
  void operator()(const msg::predict_request& v) {
    for (const auto* t : {&v.service, &v.routing_key, &v.replica}) add(*t);
  }
  void operator()(const msg::predict_reply& v) { add(v.model_name); }
  void operator()(const msg::list_services_request& v) { add(v.tenant); }
  void operator()(const msg::list_services_reply& v) {
    for (const auto& s : v.services) {
      for (const auto* t : {&s.name, &s.tenant, &s.job_id, &s.model}) add(*t);
      for (const auto& version : s.versions) {
        add(version.signature);
        add(version.problem);
      }
    }
  }
  void operator()(const msg::resolve_service_request& v) { add(v.attempt_id); }
  void operator()(const msg::resolve_service_reply& v) {
    add(v.model_name);
    for (const auto& version : v.versions) {
      add(version.artifact_digest);
      add(version.signature);
    }
    add(v.service);
  }
  void operator()(const msg::replica_report& v) {
    add(v.attempt_id);
    for (const auto& version : v.versions) add(version.problem);
    add(v.predict_endpoint);
    add(v.predict_public_key);
  }
  void operator()(const msg::replica_report_reply&) {}
};

}  // namespace

std::vector<const std::string*> texts_of(const msg::envelope& env) {
  std::vector<const std::string*> texts{&env.sender};
  std::visit(collector{texts}, env.body);
  return texts;
}

}  // namespace troupe::fuzz
