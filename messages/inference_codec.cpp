#include "messages/inference_codec.hpp"

#include "messages/codec_parts.hpp"

namespace troupe::msg::inference_codec {
namespace {

using namespace parts;
using Which = wire::InferenceMessage;

void put_floats(capnp::List<float>::Builder b, const std::vector<float>& v) {
  for (unsigned i = 0; i < v.size(); ++i) b.set(i, v[i]);
}

std::vector<float> get_floats(capnp::List<float>::Reader r) {
  std::vector<float> out;
  out.reserve(r.size());
  for (float v : r) out.push_back(static_cast<float>(finite(v)));
  return out;
}

void put_signature(wire::ModelSignature::Builder b, const inference::model_signature& v) {
  b.setInputFeatures(v.input_features);
  b.setOutputs(cast_enum<wire::ModelSignature::Outputs>(v.outputs));
  auto classes = b.initClasses(static_cast<unsigned>(v.classes.size()));
  for (unsigned i = 0; i < v.classes.size(); ++i) classes.set(i, text(v.classes[i]));
}

inference::model_signature get_signature(wire::ModelSignature::Reader r) {
  inference::model_signature v;
  v.input_features = r.getInputFeatures();
  v.outputs = checked_enum(r.getOutputs(), inference::output_kind::values);
  for (auto c : r.getClasses()) v.classes.push_back(str(c));
  return v;
}

void put_service(wire::ServiceStatus::Builder b, const inference::service_status& v) {
  b.setName(text(v.name));
  b.setTenant(text(v.tenant));
  b.setJobId(text(v.job_id));
  b.setModel(text(v.model));
  b.setReplicas(v.replicas);
  b.setReadyReplicas(v.ready_replicas);
  auto versions = b.initVersions(static_cast<unsigned>(v.versions.size()));
  for (unsigned i = 0; i < v.versions.size(); ++i) {
    const auto& s = v.versions[i];
    versions[i].setVersion(s.version);
    versions[i].setWeight(s.weight);
    versions[i].setReadyReplicas(s.ready_replicas);
    put_signature(versions[i].initSignature(), s.signature);
    versions[i].setProblem(text(s.problem));
    versions[i].setRequests(s.requests);
  }
  auto policy = b.initPolicy();
  policy.setTokensRequired(v.auth.tokens_required);
  policy.setRateLimitPerS(v.auth.rate_limit_per_s);
  policy.setBurst(v.auth.burst);
  policy.setCacheEntries(v.cache.entries);
  policy.setCacheTtlS(v.cache.ttl_s);
}

inference::service_status get_service(wire::ServiceStatus::Reader r) {
  inference::service_status v;
  v.name = str(r.getName());
  v.tenant = str(r.getTenant());
  v.job_id = str(r.getJobId());
  v.model = str(r.getModel());
  v.replicas = r.getReplicas();
  v.ready_replicas = r.getReadyReplicas();
  for (auto s : r.getVersions())
    v.versions.push_back({s.getVersion(), s.getWeight(), s.getReadyReplicas(),
                          get_signature(s.getSignature()), str(s.getProblem()), s.getRequests()});
  const auto policy = r.getPolicy();
  const double rate = finite(policy.getRateLimitPerS());
  if (rate < 0) throw refused_value("a rate limit is negative");
  v.auth = {policy.getTokensRequired(), rate, policy.getBurst()};
  v.cache = {policy.getCacheEntries(), policy.getCacheTtlS()};
  return v;
}

struct encoder {
  wire::InferenceMessage::Builder b;

  void operator()(const predict_request& v) {
    auto r = b.initPredictRequest();
    r.setService(text(v.service));
    r.setVersion(v.version);
    r.setFeatureCount(v.feature_count);
    put_floats(r.initFeatures(static_cast<unsigned>(v.features.size())), v.features);
    r.setRoutingKey(text(v.routing_key));
    r.setReplica(text(v.replica));
  }
  void operator()(const predict_reply& v) {
    auto r = b.initPredictReply();
    r.setModelName(text(v.model_name));
    r.setModelVersion(v.model_version);
    r.setRows(v.rows);
    r.setOutputCount(v.output_count);
    put_floats(r.initOutputs(static_cast<unsigned>(v.outputs.size())), v.outputs);
  }
  void operator()(const list_services_request& v) {
    b.initListServicesRequest().setTenant(text(v.tenant));
  }
  void operator()(const list_services_reply& v) {
    auto services =
        b.initListServicesReply().initServices(static_cast<unsigned>(v.services.size()));
    for (unsigned i = 0; i < v.services.size(); ++i) put_service(services[i], v.services[i]);
  }
  void operator()(const resolve_service_request& v) {
    b.initResolveServiceRequest().setAttemptId(text(v.attempt_id));
  }
  void operator()(const resolve_service_reply& v) {
    auto r = b.initResolveServiceReply();
    r.setModelName(text(v.model_name));
    auto versions = r.initVersions(static_cast<unsigned>(v.versions.size()));
    for (unsigned i = 0; i < v.versions.size(); ++i) {
      versions[i].setVersion(v.versions[i].version);
      versions[i].setArtifactDigest(text(v.versions[i].artifact_digest));
      put_signature(versions[i].initSignature(), v.versions[i].signature);
      versions[i].setWeight(v.versions[i].weight);
    }
    r.setService(text(v.service));
  }
  void operator()(const replica_report& v) {
    auto r = b.initReplicaReport();
    r.setAttemptId(text(v.attempt_id));
    auto versions = r.initVersions(static_cast<unsigned>(v.versions.size()));
    for (unsigned i = 0; i < v.versions.size(); ++i) {
      versions[i].setVersion(v.versions[i].version);
      const auto& loaded = v.versions[i];
      versions[i].setProblem(text(loaded.problem));
      versions[i].setQueueDepth(loaded.queue_depth);
      auto passes =
          versions[i].initPassesByRows(static_cast<unsigned>(loaded.passes_by_rows.size()));
      for (unsigned k = 0; k < loaded.passes_by_rows.size(); ++k)
        passes.set(k, loaded.passes_by_rows[k]);
      versions[i].setRowsForwarded(loaded.rows_forwarded);
    }
    r.setPredictEndpoint(text(v.predict_endpoint));
    r.setPredictPublicKey(text(v.predict_public_key));
  }
  void operator()(const replica_report_reply&) { b.initReplicaReportReply(); }
};

}  // namespace

void put(wire::InferenceMessage::Builder b, const inference_message& m) {
  std::visit(encoder{b}, m.body);
}

std::optional<inference_message> get(wire::InferenceMessage::Reader r) {
  switch (r.which()) {
    case Which::PREDICT_REQUEST: {
      auto p = r.getPredictRequest();
      return inference_message{predict_request{str(p.getService()), p.getVersion(),
                                               p.getFeatureCount(), get_floats(p.getFeatures()),
                                               str(p.getRoutingKey()), str(p.getReplica())}};
    }
    case Which::PREDICT_REPLY: {
      auto p = r.getPredictReply();
      return inference_message{predict_reply{str(p.getModelName()), p.getModelVersion(),
                                             p.getRows(), p.getOutputCount(),
                                             get_floats(p.getOutputs())}};
    }
    case Which::LIST_SERVICES_REQUEST:
      return inference_message{list_services_request{str(r.getListServicesRequest().getTenant())}};
    case Which::LIST_SERVICES_REPLY: {
      list_services_reply v;
      for (auto s : r.getListServicesReply().getServices()) v.services.push_back(get_service(s));
      return inference_message{std::move(v)};
    }
    case Which::RESOLVE_SERVICE_REQUEST:
      return inference_message{
          resolve_service_request{str(r.getResolveServiceRequest().getAttemptId())}};
    case Which::RESOLVE_SERVICE_REPLY: {
      auto q = r.getResolveServiceReply();
      resolve_service_reply v;
      v.model_name = str(q.getModelName());
      for (auto l : q.getVersions())
        v.versions.push_back({l.getVersion(), str(l.getArtifactDigest()),
                              get_signature(l.getSignature()), l.getWeight()});
      v.service = str(q.getService());
      return inference_message{std::move(v)};
    }
    case Which::REPLICA_REPORT: {
      auto q = r.getReplicaReport();
      replica_report v;
      v.attempt_id = str(q.getAttemptId());
      for (auto l : q.getVersions()) {
        loaded_version loaded{
            l.getVersion(), str(l.getProblem()), l.getQueueDepth(), {}, l.getRowsForwarded()};
        for (auto passes : l.getPassesByRows()) {
          if (loaded.passes_by_rows.size() == pass_row_buckets) break;
          loaded.passes_by_rows.push_back(passes);
        }
        v.versions.push_back(std::move(loaded));
      }
      v.predict_endpoint = str(q.getPredictEndpoint());
      v.predict_public_key = str(q.getPredictPublicKey());
      return inference_message{std::move(v)};
    }
    case Which::REPLICA_REPORT_REPLY: return inference_message{replica_report_reply{}};
  }
  return std::nullopt;
}

}  // namespace troupe::msg::inference_codec
