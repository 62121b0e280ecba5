#include "cluster/jobs/kinds/command/command_kind.hpp"

#include <algorithm>
#include <array>

#include "cluster/jobs/spec_reader.hpp"

namespace troupe::jobs {
namespace {

constexpr std::array<std::string_view, 11> troupe_variables{
    "TROUPE_JOB_ID", "TROUPE_TASK_INDEX", "TROUPE_TASK_COUNT", "TROUPE_ATTEMPT_ID",
    "RANK",          "WORLD_SIZE",        "LOCAL_RANK",        "LOCAL_WORLD_SIZE",
    "MASTER_ADDR",   "MASTER_PORT",       "TROUPE_RANK_LINK"};

bool is_troupe_variable(std::string_view name) {
  return std::find(troupe_variables.begin(), troupe_variables.end(), name) !=
         troupe_variables.end();
}

// [A-Za-z_][A-Za-z0-9_]*
bool is_variable_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

nlohmann::json parse_argv(const spec_map& spec, const std::vector<std::string>& argv) {
  if (argv.empty() || argv.size() > max_command_arguments)
    throw spec_error(spec.path("argv"), "expected 1 to " + std::to_string(max_command_arguments) +
                                            " arguments, got " + std::to_string(argv.size()));
  if (argv[0].empty())
    throw spec_error(item_path(spec.path("argv"), 0), "expected the program to run, got \"\"");
  return argv;
}

nlohmann::json parse_env(const spec_map& spec) {
  auto env = nlohmann::json::object();
  const auto entries = spec.text_map("env");
  if (!entries) return env;
  for (const auto& [name, value] : *entries) {
    if (!is_variable_name(name))
      throw spec_error(spec.path("env"),
                       "expected variable names of [A-Za-z_][A-Za-z0-9_]*, got " + shown(name));
    if (!is_plain_text(value))
      throw spec_error(child_path(spec.path("env"), name),
                       "expected text without control characters, got " + shown(value));
    env[name] = value;
  }
  return env;
}

}  // namespace

std::vector<std::string_view> command_kind::field_names() const {
  return {"argv", "shell", "env", "workdir"};
}

nlohmann::json command_kind::parse_fields(const spec_map& spec) const {
  auto fields = nlohmann::json::object();
  const auto argv = spec.text_list("argv");
  const auto shell = spec.text("shell");
  if (argv && shell) throw spec_error(spec.path("shell"), "give argv or shell, not both");
  if (argv) {
    fields["argv"] = parse_argv(spec, *argv);
  } else if (shell) {
    if (shell->empty()) throw spec_error(spec.path("shell"), "expected a command, got \"\"");
    fields["shell"] = *shell;
  } else {
    throw spec_error(spec.path("argv"), "required field missing (give argv or shell)");
  }
  fields["env"] = parse_env(spec);
  if (const auto workdir = spec.text("workdir")) {
    if (workdir->empty() || workdir->front() != '/')
      throw spec_error(spec.path("workdir"), "expected an absolute path, got " + shown(*workdir));
    fields["workdir"] = *workdir;
  }
  return fields;
}

task_launch command_kind::launch(const job_spec& spec, const task_context& task) const {
  const auto& fields = spec.kind_fields;
  task_launch out;
  out.attempt_id = task.attempt_id;
  if (fields.contains("argv"))
    out.argv = fields["argv"].get<std::vector<std::string>>();
  else
    out.argv = {"/bin/sh", "-c", fields["shell"].get<std::string>()};
  for (const auto& [name, value] : fields["env"].items())
    if (!is_troupe_variable(name)) out.env.emplace_back(name, value.get<std::string>());
  auto set = [&](std::string_view name, std::string value) {
    out.env.emplace_back(std::string(name), std::move(value));
  };
  set("TROUPE_JOB_ID", task.job_id);
  set("TROUPE_TASK_INDEX", std::to_string(task.task_index));
  set("TROUPE_TASK_COUNT", std::to_string(task.task_count));
  set("TROUPE_ATTEMPT_ID", task.attempt_id);
  set("RANK", std::to_string(task.task_index));
  set("WORLD_SIZE", std::to_string(task.task_count));
  set("LOCAL_RANK", std::to_string(task.local_rank));
  set("LOCAL_WORLD_SIZE", std::to_string(task.local_world_size));
  set("MASTER_ADDR", task.master_addr);
  if (task.master_port != 0) set("MASTER_PORT", std::to_string(task.master_port));
  out.pick_master_port = task.master_port == 0 && task.task_index == 0;
  // A gang's tasks are ranks: they may meet through the head's rendezvous and report metrics.
  out.rank_link = task.task_count > 1;
  out.workdir = fields.value("workdir", "");
  out.cpus = spec.resources.cpus;
  out.memory_limit_mb = spec.resources.memory_mb;
  out.timeout_ms = spec.timeout_s * 1000;
  out.gpus = task.gpus;
  return out;
}

}  // namespace troupe::jobs
