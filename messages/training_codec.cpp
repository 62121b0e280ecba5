#include "messages/training_codec.hpp"

#include "messages/artifacts_codec.hpp"
#include "messages/codec_parts.hpp"

namespace troupe::msg::training_codec {
namespace {

using namespace parts;
using artifacts_codec::get_info;
using artifacts_codec::get_kind;
using artifacts_codec::put_info;
using Which = wire::TrainingMessage;

void put_step(wire::StepMetric::Builder b, const step_metric& v) {
  b.setEpoch(v.epoch);
  b.setStep(v.step);
  b.setLoss(v.loss);
  b.setLearningRate(v.learning_rate);
  b.setSamplesPerSecond(v.samples_per_second);
  b.setAtMs(v.at_ms);
}

step_metric get_step(wire::StepMetric::Reader r) {
  return {r.getEpoch(),
          r.getStep(),
          finite(r.getLoss()),
          finite(r.getLearningRate()),
          finite(r.getSamplesPerSecond()),
          r.getAtMs()};
}

void put_epoch(wire::EpochMetric::Builder b, const epoch_metric& v) {
  b.setEpoch(v.epoch);
  b.setTrainLoss(v.train_loss);
  b.setHasValLoss(v.val_loss.has_value());
  b.setValLoss(v.val_loss.value_or(0));
  b.setHasValAccuracy(v.val_accuracy.has_value());
  b.setValAccuracy(v.val_accuracy.value_or(0));
  b.setHasValMae(v.val_mae.has_value());
  b.setValMae(v.val_mae.value_or(0));
  b.setAtMs(v.at_ms);
}

epoch_metric get_epoch(wire::EpochMetric::Reader r) {
  epoch_metric v;
  v.epoch = r.getEpoch();
  v.train_loss = finite(r.getTrainLoss());
  if (r.getHasValLoss()) v.val_loss = finite(r.getValLoss());
  if (r.getHasValAccuracy()) v.val_accuracy = finite(r.getValAccuracy());
  if (r.getHasValMae()) v.val_mae = finite(r.getValMae());
  v.at_ms = r.getAtMs();
  return v;
}

struct encoder {
  wire::TrainingMessage::Builder b;

  void operator()(const rendezvous_set_request& v) {
    auto r = b.initRendezvousSetRequest();
    r.setAttemptId(text(v.attempt_id));
    r.setKey(text(v.key));
    r.setValue(data(v.value));
  }
  void operator()(const rendezvous_set_reply&) { b.initRendezvousSetReply(); }
  void operator()(const rendezvous_get_request& v) {
    auto r = b.initRendezvousGetRequest();
    r.setAttemptId(text(v.attempt_id));
    r.setKey(text(v.key));
    r.setTimeoutMs(v.timeout_ms);
  }
  void operator()(const rendezvous_get_reply& v) {
    b.initRendezvousGetReply().setValue(data(v.value));
  }
  void operator()(const metrics_report& v) {
    auto r = b.initMetricsReport();
    r.setAttemptId(text(v.attempt_id));
    auto steps = r.initSteps(static_cast<unsigned>(v.steps.size()));
    for (unsigned i = 0; i < v.steps.size(); ++i) put_step(steps[i], v.steps[i]);
    auto epochs = r.initEpochs(static_cast<unsigned>(v.epochs.size()));
    for (unsigned i = 0; i < v.epochs.size(); ++i) put_epoch(epochs[i], v.epochs[i]);
  }
  void operator()(const job_metrics_request& v) {
    auto r = b.initJobMetricsRequest();
    r.setJobId(text(v.job_id));
    r.setAfter(v.after);
    r.setMaxEntries(v.max_entries);
  }
  void operator()(const job_metrics_reply& v) {
    auto r = b.initJobMetricsReply();
    auto entries = r.initEntries(static_cast<unsigned>(v.entries.size()));
    for (unsigned i = 0; i < v.entries.size(); ++i) {
      const auto& e = v.entries[i];
      entries[i].setSeq(e.seq);
      entries[i].setAttemptId(text(e.attempt_id));
      if (const auto* s = std::get_if<step_metric>(&e.metric))
        put_step(entries[i].initStep(), *s);
      else
        put_epoch(entries[i].initEpoch(), std::get<epoch_metric>(e.metric));
    }
    r.setNext(v.next);
    r.setJobState(text(v.job_state));
  }
  void operator()(const fetch_artifact_request& v) {
    auto r = b.initFetchArtifactRequest();
    r.setAttemptId(text(v.attempt_id));
    r.setName(text(v.name));
    r.setDigest(text(v.digest));
    r.setTimeoutMs(v.timeout_ms);
    r.setOffset(v.offset);
    r.setLength(v.length);
  }
  void operator()(const fetch_artifact_reply& v) {
    auto r = b.initFetchArtifactReply();
    put_info(r.initArtifact(), v.artifact);
    r.setPath(text(v.path));
  }
  void operator()(const publish_artifact_request& v) {
    auto r = b.initPublishArtifactRequest();
    r.setAttemptId(text(v.attempt_id));
    r.setPath(text(v.path));
    r.setName(text(v.name));
    r.setKind(cast_enum<wire::ArtifactKind>(v.kind));
    r.setTimeoutMs(v.timeout_ms);
  }
  void operator()(const publish_artifact_reply& v) {
    put_info(b.initPublishArtifactReply().initArtifact(), v.artifact);
  }
  void operator()(const register_model_request& v) {
    auto r = b.initRegisterModelRequest();
    r.setAttemptId(text(v.attempt_id));
    r.setArtifactDigest(text(v.artifact_digest));
    r.setFinalMetricsJson(text(v.final_metrics_json));
    r.setBestMetricsJson(text(v.best_metrics_json));
    r.setDatasetFingerprint(text(v.dataset_fingerprint));
    r.setInputFeatures(v.input_features);
    put_texts(r.initClasses(static_cast<unsigned>(v.classes.size())), v.classes);
  }
  void operator()(const register_model_reply& v) {
    auto r = b.initRegisterModelReply();
    r.setName(text(v.name));
    r.setVersion(v.version);
  }
  void operator()(const assemble_dataset_request& v) {
    auto r = b.initAssembleDatasetRequest();
    r.setAttemptId(text(v.attempt_id));
    r.setName(text(v.name));
    auto parts = r.initParts(static_cast<unsigned>(v.parts.size()));
    for (unsigned i = 0; i < v.parts.size(); ++i) {
      parts[i].setName(text(v.parts[i].name));
      parts[i].setDigest(text(v.parts[i].digest));
    }
    r.setTimeoutMs(v.timeout_ms);
  }
  void operator()(const assemble_dataset_reply& v) {
    put_info(b.initAssembleDatasetReply().initArtifact(), v.artifact);
  }
};

metric_entry get_entry(wire::MetricEntry::Reader r) {
  metric_entry e;
  e.seq = r.getSeq();
  e.attempt_id = str(r.getAttemptId());
  switch (r.which()) {
    case wire::MetricEntry::STEP: e.metric = get_step(r.getStep()); break;
    case wire::MetricEntry::EPOCH: e.metric = get_epoch(r.getEpoch()); break;
    default: throw refused_value("a metric entry is of an unknown kind");
  }
  return e;
}

}  // namespace

void put(wire::TrainingMessage::Builder b, const training_message& m) {
  std::visit(encoder{b}, m.body);
}

std::optional<training_message> get(wire::TrainingMessage::Reader r) {
  switch (r.which()) {
    case Which::RENDEZVOUS_SET_REQUEST: {
      auto s = r.getRendezvousSetRequest();
      return training_message{
          rendezvous_set_request{str(s.getAttemptId()), str(s.getKey()), bytes(s.getValue())}};
    }
    case Which::RENDEZVOUS_SET_REPLY: return training_message{rendezvous_set_reply{}};
    case Which::RENDEZVOUS_GET_REQUEST: {
      auto g = r.getRendezvousGetRequest();
      return training_message{
          rendezvous_get_request{str(g.getAttemptId()), str(g.getKey()), g.getTimeoutMs()}};
    }
    case Which::RENDEZVOUS_GET_REPLY:
      return training_message{rendezvous_get_reply{bytes(r.getRendezvousGetReply().getValue())}};
    case Which::METRICS_REPORT: {
      auto m = r.getMetricsReport();
      metrics_report v;
      v.attempt_id = str(m.getAttemptId());
      for (auto s : m.getSteps()) v.steps.push_back(get_step(s));
      for (auto e : m.getEpochs()) v.epochs.push_back(get_epoch(e));
      return training_message{std::move(v)};
    }
    case Which::JOB_METRICS_REQUEST: {
      auto q = r.getJobMetricsRequest();
      return training_message{
          job_metrics_request{str(q.getJobId()), q.getAfter(), q.getMaxEntries()}};
    }
    case Which::JOB_METRICS_REPLY: {
      auto q = r.getJobMetricsReply();
      job_metrics_reply v;
      for (auto e : q.getEntries()) v.entries.push_back(get_entry(e));
      v.next = q.getNext();
      v.job_state = str(q.getJobState());
      return training_message{std::move(v)};
    }
    case Which::FETCH_ARTIFACT_REQUEST: {
      auto f = r.getFetchArtifactRequest();
      return training_message{fetch_artifact_request{str(f.getAttemptId()), str(f.getName()),
                                                     str(f.getDigest()), f.getTimeoutMs(),
                                                     f.getOffset(), f.getLength()}};
    }
    case Which::FETCH_ARTIFACT_REPLY: {
      auto f = r.getFetchArtifactReply();
      return training_message{fetch_artifact_reply{get_info(f.getArtifact()), str(f.getPath())}};
    }
    case Which::PUBLISH_ARTIFACT_REQUEST: {
      auto p = r.getPublishArtifactRequest();
      return training_message{publish_artifact_request{str(p.getAttemptId()), str(p.getPath()),
                                                       str(p.getName()), get_kind(p.getKind()),
                                                       p.getTimeoutMs()}};
    }
    case Which::PUBLISH_ARTIFACT_REPLY:
      return training_message{
          publish_artifact_reply{get_info(r.getPublishArtifactReply().getArtifact())}};
    case Which::REGISTER_MODEL_REQUEST: {
      auto m = r.getRegisterModelRequest();
      return training_message{register_model_request{
          str(m.getAttemptId()), str(m.getArtifactDigest()), str(m.getFinalMetricsJson()),
          str(m.getBestMetricsJson()), str(m.getDatasetFingerprint()), m.getInputFeatures(),
          texts(m.getClasses())}};
    }
    case Which::REGISTER_MODEL_REPLY: {
      auto m = r.getRegisterModelReply();
      return training_message{register_model_reply{str(m.getName()), m.getVersion()}};
    }
    case Which::ASSEMBLE_DATASET_REQUEST: {
      auto a = r.getAssembleDatasetRequest();
      assemble_dataset_request v;
      v.attempt_id = str(a.getAttemptId());
      v.name = str(a.getName());
      for (auto p : a.getParts()) v.parts.push_back({str(p.getName()), str(p.getDigest())});
      v.timeout_ms = a.getTimeoutMs();
      return training_message{std::move(v)};
    }
    case Which::ASSEMBLE_DATASET_REPLY:
      return training_message{
          assemble_dataset_reply{get_info(r.getAssembleDatasetReply().getArtifact())}};
  }
  return std::nullopt;
}

}  // namespace troupe::msg::training_codec
