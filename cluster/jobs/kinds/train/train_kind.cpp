#include "cluster/jobs/kinds/train/train_kind.hpp"

#include "cluster/jobs/job_spec.hpp"
#include "cluster/jobs/kinds/common_launch.hpp"
#include "cluster/jobs/kinds/train/train_fields.hpp"
#include "cluster/jobs/spec_reader.hpp"

namespace troupe::jobs {

std::vector<std::string_view> train_kind::field_names() const {
  return {"world_size",     "device",     "model",     "task",   "data",       "optimizer",
          "lr_schedule",    "grad_clip",  "precision", "epochs", "batch_size", "seed",
          "early_stopping", "checkpoint", "elastic",   "output", "bucket_mb"};
}

nlohmann::json train_kind::parse_fields(const spec_map& spec) const {
  auto fields = training::to_json(read_train_fields(spec));
  // Every other field is bounded to a few KiB: only a long feature list can pass the limit.
  const auto bytes = fields.dump().size();
  if (bytes > max_train_spec_bytes)
    throw spec_error(child_path(spec.path("data"), "features"),
                     "the train spec would be " + std::to_string(bytes) +
                         " bytes as JSON, more than the " + std::to_string(max_train_spec_bytes) +
                         " a rank can be given: leave features out to use every column but "
                         "the label");
  return fields;
}

void train_kind::derive_common_fields(const spec_map& spec, job_spec& out) const {
  const auto world_size = out.kind_fields.at("world_size").get<uint32_t>();
  const auto tasks = spec.whole("tasks", 1, spec_limits::max_tasks);
  if (tasks && *tasks != world_size)
    throw spec_error(spec.path("tasks"),
                     "a train job runs one task per rank: leave tasks out or "
                     "make it world_size (" +
                         std::to_string(world_size) + "), got " + std::to_string(*tasks));
  out.tasks = world_size;
  if (const auto elastic = out.kind_fields.find("elastic"); elastic != out.kind_fields.end())
    out.min_tasks = elastic->at("min_world_size").get<uint32_t>();

  const bool cuda = out.kind_fields.at("device") == "cuda";
  const auto resources = spec.map("resources");
  const auto gpus = resources ? resources->whole("gpus", 0, spec_limits::max_gpus) : std::nullopt;
  const uint32_t per_rank = cuda ? 1 : 0;
  if (gpus && *gpus != per_rank)
    throw spec_error(resources->path("gpus"),
                     std::string(cuda ? "a cuda rank trains on one GPU: expected 1"
                                      : "a cpu rank uses no GPU: expected 0") +
                         " (or leave gpus out), got " + std::to_string(*gpus));
  out.resources.gpus = per_rank;
}

task_launch train_kind::launch(const job_spec& spec, const task_context& task) const {
  auto out = common_launch(spec, task);
  out.argv = {rank_program};
  // The round's world size: an elastic job's round may run on fewer ranks than the spec's.
  auto fields = spec.kind_fields;
  fields["world_size"] = task.task_count;
  out.env.emplace_back(train_spec_variable, fields.dump());
  out.env.emplace_back("OPENBLAS_NUM_THREADS", "1");
  out.rank_link = true;  // every rank, one alone too, meets its peers and reports through it
  return out;
}

}  // namespace troupe::jobs
