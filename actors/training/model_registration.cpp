#include "actors/training/model_registration.hpp"

#include <caf/all.hpp>
#include <chrono>

#include "actors/artifacts/artifact_service.hpp"
#include "actors/atoms.hpp"
#include "actors/models/registry_actor.hpp"
#include "cluster/artifacts/digest.hpp"
#include "cluster/jobs/job_ids.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "cluster/training/train_spec.hpp"

namespace troupe::training {
namespace {

// The registry writes to the store before it answers.
constexpr auto registry_timeout = std::chrono::seconds(20);
constexpr auto artifacts_timeout = std::chrono::seconds(5);

// The name and parameters of the job's model, from its stored spec; or why there are none.
std::variant<models::registration, msg::error> registration_of(
    const job_service::job_view& job, const msg::register_model_request& r) {
  const auto task = jobs::parse_attempt_id(r.attempt_id);
  if (job.kind != "train" || !task || task->task_index != 0)
    return msg::error{msg::error_code::permission_denied,
                      "only task 0 of a train job registers its model"};
  if (!artifacts::is_sha256_hex(r.artifact_digest))
    return msg::error{msg::error_code::invalid_request,
                      "artifactDigest: must be a SHA-256 as 64 lowercase hex digits"};
  try {
    const auto fields = jobs::parse_job_spec(job.spec_json).kind_fields;
    const auto spec = train_spec_from_json(fields);
    models::registration out;
    out.name = spec.model_name;
    out.tenant = job.tenant;
    out.job_id = job.job_id;
    out.artifact_digest = r.artifact_digest;
    out.final_metrics_json = r.final_metrics_json;
    out.best_metrics_json = r.best_metrics_json;
    out.params_json = fields.dump();
    out.dataset_fingerprint = r.dataset_fingerprint;
    out.input_features = r.input_features;
    out.outputs = spec.task == task_kind::classification ? models::output_kind::logits
                                                         : models::output_kind::values;
    out.classes = r.classes;
    return out;
  } catch (const std::exception& e) {  // a stored spec that no longer parses: our bug
    return msg::error{msg::error_code::internal,
                      std::string("the job's stored spec does not parse: ") + e.what()};
  }
}

bool published_as_model(const artifact_service::artifact_versions& found,
                        const std::string& job_id) {
  for (const auto& a : found.versions)
    if (a.kind == msg::artifact_kind::model && a.job_id == job_id) return true;
  return false;
}

}  // namespace

void register_model(caf::event_based_actor* self, const model_registration_deps& deps,
                    const job_service::job_view& attempt, const msg::register_model_request& r,
                    std::function<void(msg::body)> answer) {
  auto made = registration_of(attempt, r);
  if (auto* e = std::get_if<msg::error>(&made)) return answer(std::move(*e));
  auto registration = std::get<models::registration>(std::move(made));
  auto unavailable = [answer](const char* who) {
    return [answer, who](const caf::error&) {
      answer(msg::error{msg::error_code::unavailable, std::string(who) + " did not answer"});
    };
  };
  self->request(deps.artifacts, artifacts_timeout, actors::artifact_atom::value,
                registration.tenant, registration.artifact_digest)
      .then(
          [self, models = deps.models, registration, answer,
           unavailable](const artifact_service::artifact_versions& found) {
            if (!published_as_model(found, registration.job_id))
              return answer(msg::error{msg::error_code::not_found,
                                       "artifactDigest: job " + registration.job_id +
                                           " published no model with sha256 " +
                                           registration.artifact_digest});
            self->request(models, registry_timeout, actors::register_atom::value, registration)
                .then(
                    [answer, name = registration.name](const models::registration_result& got) {
                      if (const auto* e = std::get_if<msg::error>(&got)) return answer(*e);
                      answer(msg::training_message{
                          msg::register_model_reply{name, std::get<uint32_t>(got)}});
                    },
                    unavailable("the model registry"));
          },
          unavailable("the artifact service"));
}

}  // namespace troupe::training
