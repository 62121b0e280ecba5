#include "cluster/jobs/job_spec.hpp"

#include <algorithm>
#include <limits>

#include "cluster/jobs/job_ids.hpp"
#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/spec_document.hpp"
#include "cluster/jobs/spec_reader.hpp"
#include "messages/safe_text.hpp"

namespace troupe::jobs {
namespace {

namespace limits = spec_limits;

std::string describe(const spec_node& node) {
  switch (node.shape) {
    case spec_node::form::null: return "nothing";
    case spec_node::form::sequence: return "a list";
    default: return "a single value";
  }
}

std::map<std::string, std::string> read_labels(const spec_map& resources) {
  std::map<std::string, std::string> labels;
  const auto entries = resources.text_map("labels");
  if (!entries) return labels;
  const auto path = resources.path("labels");
  const std::string rule = std::string(msg::node_text_rule) + ", got ";
  for (const auto& [key, value] : *entries) {
    if (key.empty()) throw spec_error(path, "expected non-empty label keys, got \"\"");
    if (!msg::is_node_text(key))
      throw spec_error(path, "expected label keys of " + rule + shown(key));
    if (!msg::is_node_text(value))
      throw spec_error(child_path(path, key), "expected " + rule + shown(value));
    labels.emplace(key, value);
  }
  return labels;
}

resource_request read_resources(const spec_map& spec) {
  resource_request out;
  const auto resources = spec.map("resources");
  if (!resources) return out;
  resources->allow_only({"cpus", "memory_mb", "gpus", "labels"});
  out.cpus = resources->number("cpus", 0, limits::max_cpus, true).value_or(out.cpus);
  out.memory_mb = resources->whole("memory_mb", 0, limits::max_memory_mb).value_or(out.memory_mb);
  out.gpus =
      static_cast<uint32_t>(resources->whole("gpus", 0, limits::max_gpus).value_or(out.gpus));
  out.labels = read_labels(*resources);
  return out;
}

retry_policy read_retries(const spec_map& spec) {
  retry_policy out;
  const auto retries = spec.map("retries");
  if (!retries) return out;
  retries->allow_only({"max", "backoff_s"});
  out.max = static_cast<uint32_t>(retries->whole("max", 0, limits::max_retries).value_or(out.max));
  out.backoff_s = retries->number("backoff_s", 0, limits::max_backoff_s).value_or(out.backoff_s);
  return out;
}

std::vector<std::string> read_after(const spec_map& spec) {
  auto after = spec.text_list("after").value_or(std::vector<std::string>{});
  for (size_t i = 0; i < after.size(); ++i)
    if (!is_job_id(after[i]))
      throw spec_error(item_path(spec.path("after"), i),
                       "expected a job id (j and 16 lowercase hex digits), got " + shown(after[i]));
  return after;
}

const job_kind& read_kind(const spec_map& spec) {
  const auto name = spec.required(spec.text("kind"), "kind");
  if (const auto* kind = find_kind(name)) return *kind;
  std::string known;
  for (const auto* kind : job_kinds())
    known += (known.empty() ? "" : ", ") + std::string(kind->name());
  throw spec_error(spec.path("kind"), "unknown kind " + shown(name) + " (known: " + known + ")");
}

}  // namespace

const std::vector<std::string_view>& common_field_names() {
  static const std::vector<std::string_view> names{
      "name", "kind", "tenant", "priority", "resources", "tasks", "retries", "timeout_s", "after"};
  return names;
}

job_spec parse_job_spec(std::string_view text) {
  if (text.size() > max_spec_bytes)
    throw spec_error("", "the spec is " + std::to_string(text.size()) +
                             " bytes, more than the 1 MiB (" + std::to_string(max_spec_bytes) +
                             " bytes) allowed");
  const auto root = read_spec_document(text);
  if (root.shape != spec_node::form::mapping)
    throw spec_error("", "expected a mapping of fields, got " + describe(root));
  const spec_map spec(root, "");
  const auto& kind = read_kind(spec);
  auto known = common_field_names();
  const auto own = kind.field_names();
  known.insert(known.end(), own.begin(), own.end());
  spec.allow_only(known);

  job_spec out;
  out.kind = std::string(kind.name());
  out.name = spec.required(spec.name("name"), "name");
  out.tenant = spec.name("tenant").value_or(out.tenant);
  out.priority = static_cast<int32_t>(spec.integer("priority", std::numeric_limits<int32_t>::min(),
                                                   std::numeric_limits<int32_t>::max())
                                          .value_or(out.priority));
  out.resources = read_resources(spec);
  out.tasks = static_cast<uint32_t>(spec.whole("tasks", 1, limits::max_tasks).value_or(out.tasks));
  out.retries = read_retries(spec);
  out.timeout_s = spec.whole("timeout_s", 0, limits::max_timeout_s).value_or(out.timeout_s);
  out.after = read_after(spec);
  out.kind_fields = kind.parse_fields(spec);
  kind.derive_common_fields(spec, out);
  // What the head stores must parse back: JSON escapes can make it larger than the YAML.
  const auto stored = to_json(out).size();
  if (stored > max_spec_bytes)
    throw spec_error("", "the spec is " + std::to_string(stored) +
                             " bytes as JSON, more than the 1 MiB (" +
                             std::to_string(max_spec_bytes) + " bytes) allowed");
  return out;
}

std::string to_json(const job_spec& spec) {
  auto json = spec.kind_fields;
  json["name"] = spec.name;
  json["kind"] = spec.kind;
  json["tenant"] = spec.tenant;
  json["priority"] = spec.priority;
  json["resources"] = {{"cpus", spec.resources.cpus},
                       {"memory_mb", spec.resources.memory_mb},
                       {"gpus", spec.resources.gpus},
                       {"labels", spec.resources.labels}};
  json["tasks"] = spec.tasks;
  json["retries"] = {{"max", spec.retries.max}, {"backoff_s", spec.retries.backoff_s}};
  json["timeout_s"] = spec.timeout_s;
  json["after"] = spec.after;
  return json.dump();
}

}  // namespace troupe::jobs
