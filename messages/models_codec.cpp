#include "messages/models_codec.hpp"

#include "messages/codec_parts.hpp"

namespace troupe::msg::models_codec {
namespace {

using namespace parts;
using Which = wire::ModelsMessage;

models::stage get_stage(wire::ModelStage s) { return checked_enum(s, models::stage::archived); }
models::output_kind get_output_kind(wire::OutputKind k) {
  return checked_enum(k, models::output_kind::values);
}

void put_summary(wire::ModelSummary::Builder b, const model_summary& v) {
  b.setName(text(v.name));
  b.setTenant(text(v.tenant));
  b.setLatestVersion(v.latest_version);
  b.setVersions(v.versions);
  b.setStagingVersion(v.staging_version);
  b.setProductionVersion(v.production_version);
  b.setUpdatedAtMs(v.updated_at_ms);
}

model_summary get_summary(wire::ModelSummary::Reader r) {
  return {str(r.getName()),      str(r.getTenant()),       r.getLatestVersion(), r.getVersions(),
          r.getStagingVersion(), r.getProductionVersion(), r.getUpdatedAtMs()};
}

void put_version(wire::ModelVersion::Builder b, const model_version& v) {
  b.setName(text(v.name));
  b.setVersion(v.version);
  b.setTenant(text(v.tenant));
  b.setJobId(text(v.job_id));
  b.setArtifactDigest(text(v.artifact_digest));
  b.setFinalMetricsJson(text(v.final_metrics_json));
  b.setBestMetricsJson(text(v.best_metrics_json));
  b.setParamsJson(text(v.params_json));
  b.setDatasetFingerprint(text(v.dataset_fingerprint));
  b.setStage(cast_enum<wire::ModelStage>(v.stage));
  b.setCreatedAtMs(v.created_at_ms);
  b.setInputFeatures(v.input_features);
  b.setOutputKind(cast_enum<wire::OutputKind>(v.output_kind));
  put_texts(b.initClasses(static_cast<unsigned>(v.classes.size())), v.classes);
  b.setSource(cast_enum<wire::ModelSource>(v.source));
}

model_version get_version(wire::ModelVersion::Reader r) {
  model_version v;
  v.name = str(r.getName());
  v.version = r.getVersion();
  v.tenant = str(r.getTenant());
  v.job_id = str(r.getJobId());
  v.artifact_digest = str(r.getArtifactDigest());
  v.final_metrics_json = str(r.getFinalMetricsJson());
  v.best_metrics_json = str(r.getBestMetricsJson());
  v.params_json = str(r.getParamsJson());
  v.dataset_fingerprint = str(r.getDatasetFingerprint());
  v.stage = get_stage(r.getStage());
  v.created_at_ms = r.getCreatedAtMs();
  v.input_features = r.getInputFeatures();
  v.output_kind = get_output_kind(r.getOutputKind());
  v.classes = texts(r.getClasses());
  v.source = checked_enum(r.getSource(), models::model_source::imported);
  return v;
}

template <class Builder>
void put_changes(Builder list, const std::vector<stage_change>& changes) {
  for (unsigned i = 0; i < changes.size(); ++i) {
    list[i].setVersion(changes[i].version);
    list[i].setFromStage(cast_enum<wire::ModelStage>(changes[i].from_stage));
    list[i].setToStage(cast_enum<wire::ModelStage>(changes[i].to_stage));
    list[i].setChangedBy(text(changes[i].changed_by));
    list[i].setAtMs(changes[i].at_ms);
  }
}

template <class List>
std::vector<stage_change> get_changes(List list) {
  std::vector<stage_change> out;
  for (auto c : list)
    out.push_back({c.getVersion(), get_stage(c.getFromStage()), get_stage(c.getToStage()),
                   str(c.getChangedBy()), c.getAtMs()});
  return out;
}

unsigned size_of(size_t n) { return static_cast<unsigned>(n); }

struct encoder {
  wire::ModelsMessage::Builder b;

  void operator()(const list_models_request& v) {
    auto r = b.initListModelsRequest();
    r.setTenant(text(v.tenant));
    r.setLimit(v.limit);
  }
  void operator()(const list_models_reply& v) {
    auto models = b.initListModelsReply().initModels(size_of(v.models.size()));
    for (unsigned i = 0; i < v.models.size(); ++i) put_summary(models[i], v.models[i]);
  }
  void operator()(const get_model_request& v) {
    auto r = b.initGetModelRequest();
    r.setName(text(v.name));
    r.setVersion(v.version);
    r.setStage(cast_enum<wire::ModelStage>(v.stage));
  }
  void operator()(const get_model_reply& v) {
    auto r = b.initGetModelReply();
    put_summary(r.initModel(), v.model);
    auto versions = r.initVersions(size_of(v.versions.size()));
    for (unsigned i = 0; i < v.versions.size(); ++i) put_version(versions[i], v.versions[i]);
    put_changes(r.initStageChanges(size_of(v.stage_changes.size())), v.stage_changes);
  }
  void operator()(const promote_model_request& v) {
    auto r = b.initPromoteModelRequest();
    r.setName(text(v.name));
    r.setVersion(v.version);
    r.setStage(cast_enum<wire::ModelStage>(v.stage));
  }
  void operator()(const promote_model_reply& v) {
    auto r = b.initPromoteModelReply();
    put_version(r.initVersion(), v.version);
    put_changes(r.initChanges(size_of(v.changes.size())), v.changes);
  }
  void operator()(const import_model_request& v) {
    auto r = b.initImportModelRequest();
    r.setName(text(v.name));
    r.setTenant(text(v.tenant));
    r.setArtifactDigest(text(v.artifact_digest));
    r.setInputFeatures(v.input_features);
    r.setOutputKind(cast_enum<wire::OutputKind>(v.output_kind));
    put_texts(r.initClasses(size_of(v.classes.size())), v.classes);
  }
  void operator()(const import_model_reply& v) {
    put_version(b.initImportModelReply().initVersion(), v.version);
  }
};

}  // namespace

void put(wire::ModelsMessage::Builder b, const models_message& m) {
  std::visit(encoder{b}, m.body);
}

std::optional<models_message> get(wire::ModelsMessage::Reader r) {
  switch (r.which()) {
    case Which::LIST_MODELS_REQUEST: {
      auto l = r.getListModelsRequest();
      return models_message{list_models_request{str(l.getTenant()), l.getLimit()}};
    }
    case Which::LIST_MODELS_REPLY: {
      list_models_reply v;
      for (auto m : r.getListModelsReply().getModels()) v.models.push_back(get_summary(m));
      return models_message{std::move(v)};
    }
    case Which::GET_MODEL_REQUEST: {
      auto g = r.getGetModelRequest();
      return models_message{
          get_model_request{str(g.getName()), g.getVersion(), get_stage(g.getStage())}};
    }
    case Which::GET_MODEL_REPLY: {
      auto g = r.getGetModelReply();
      get_model_reply v;
      v.model = get_summary(g.getModel());
      for (auto version : g.getVersions()) v.versions.push_back(get_version(version));
      v.stage_changes = get_changes(g.getStageChanges());
      return models_message{std::move(v)};
    }
    case Which::PROMOTE_MODEL_REQUEST: {
      auto p = r.getPromoteModelRequest();
      return models_message{
          promote_model_request{str(p.getName()), p.getVersion(), get_stage(p.getStage())}};
    }
    case Which::PROMOTE_MODEL_REPLY: {
      auto p = r.getPromoteModelReply();
      return models_message{
          promote_model_reply{get_version(p.getVersion()), get_changes(p.getChanges())}};
    }
    case Which::IMPORT_MODEL_REQUEST: {
      auto i = r.getImportModelRequest();
      return models_message{import_model_request{
          str(i.getName()), str(i.getTenant()), str(i.getArtifactDigest()), i.getInputFeatures(),
          get_output_kind(i.getOutputKind()), texts(i.getClasses())}};
    }
    case Which::IMPORT_MODEL_REPLY:
      return models_message{import_model_reply{get_version(r.getImportModelReply().getVersion())}};
  }
  return std::nullopt;
}

}  // namespace troupe::msg::models_codec
