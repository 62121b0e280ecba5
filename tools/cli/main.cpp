// troupe: the admin CLI. Parses the command line, resolves the config, runs one command
// (tools/cli/commands/) and prints its output, or its failure as one line on stderr.
//
// Exit codes: 0 success, 1 the head answered with an error, 2 bad usage, 3 no answer.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <functional>
#include <iostream>

#include <unistd.h>

#include "tools/cli/commands/cluster.hpp"
#include "tools/cli/commands/data.hpp"
#include "tools/cli/commands/jobs.hpp"
#include "tools/cli/commands/models.hpp"
#include "tools/cli/commands/security.hpp"
#include "tools/cli/commands/services.hpp"
#include "tools/cli/commands/tokens.hpp"
#include "tools/cli/commands/training.hpp"

namespace {

using namespace troupe;
using command = std::function<cli::command_output(const cli::session&)>;
// A command that writes as it goes and chooses the exit code (it follows a job).
using streaming_command = std::function<cli::result<int>(const cli::session&)>;

int report(const cli::failure& f) {
  std::cerr << "troupe: " << f.message << "\n";
  return static_cast<int>(f.exit_code);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe: the Troupe admin CLI", "troupe"};
  app.set_version_flag("--version", std::string("troupe ") + TROUPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  cli::cli_flags flags;
  app.add_option("--head", flags.head, "head address tcp://HOST:PORT (else $TROUPE_HEAD, config)");
  app.add_option("--config", flags.config_file,
                 "CLI config file (default ~/.config/troupe/config.yaml)");
  app.add_option("--credentials", flags.credentials,
                 "credential file (else $TROUPE_CREDENTIALS, config, --data-dir)");
  app.add_option("--data-dir", flags.data_dir,
                 "the head's data dir, to use its admin credential on the head machine");
  app.add_option("--timeout-ms", flags.timeout_ms, "how long to wait for the head")
      ->check(CLI::Range(1, 600000));
  app.add_flag("--json", flags.json, "print JSON instead of tables");

  command chosen;
  auto add = [&](const char* name, const char* help, command run) {
    auto* sub = app.add_subcommand(name, help);
    sub->callback([&chosen, run = std::move(run)] { chosen = run; });
    return sub;
  };
  std::string node;
  auto on_node = [&node](auto run) {
    return [&node, run](const cli::session& s) { return run(s, node); };
  };
  add("status", "cluster summary", cli::show_status);
  add("nodes", "every node and its state", cli::show_nodes);
  add("drain", "finish work on NODE and take no new work", on_node(cli::drain_node))
      ->add_option("node", node, "node name or id")
      ->required();
  add("undrain", "let NODE take work again", on_node(cli::undrain_node))
      ->add_option("node", node, "node name or id")
      ->required();
  add("remove", "forget NODE, which must be dead or left", on_node(cli::remove_node))
      ->add_option("node", node, "node name or id")
      ->required();

  std::string spec_file, job_id, job_state, job_tenant;
  bool wait = false, follow = false;
  uint32_t task = 0;
  streaming_command chosen_streaming;
  auto submit = app.add_subcommand("submit", "submit the job spec in FILE (- for stdin)");
  submit->add_option("file", spec_file, "job spec (YAML or JSON)")->required();
  submit->add_flag("--wait", wait, "follow the job until it ends; exit with its exit code");
  submit->callback([&] {
    chosen_streaming = [&](const cli::session& s) -> cli::result<int> {
      auto id = cli::submit_job(s, spec_file);
      if (!id) return id.error();
      std::cout << cli::submitted_text(s, *id) << std::flush;
      if (!wait) return 0;
      return cli::wait_for_job(s, *id, std::cerr, ::isatty(STDERR_FILENO));
    };
  });
  auto jobs = add("jobs", "jobs, newest first",
                  [&](const cli::session& s) { return cli::list_jobs(s, job_state, job_tenant); });
  jobs->add_option("--state", job_state, "only jobs in this state (e.g. RUNNING)");
  jobs->add_option("--tenant", job_tenant, "only this tenant's jobs");
  add("job", "one job: spec, state, attempts, history",
      [&](const cli::session& s) { return cli::show_job(s, job_id); })
      ->add_option("id", job_id, "job id")
      ->required();
  add("cancel", "cancel a job: its tasks get SIGTERM, then SIGKILL",
      [&](const cli::session& s) { return cli::cancel_job(s, job_id); })
      ->add_option("id", job_id, "job id")
      ->required();
  auto logs = app.add_subcommand("logs", "a task's output (stdout and stderr)");
  logs->add_option("id", job_id, "job id")->required();
  logs->add_option("--task", task, "task index (default 0)");
  logs->add_flag("-f,--follow", follow, "keep printing until the job has ended");
  logs->callback([&] {
    chosen_streaming = [&](const cli::session& s) {
      return cli::show_logs(s, job_id, task, follow, std::cout);
    };
  });
  auto metrics = app.add_subcommand("metrics", "what a job's ranks reported: steps and epochs");
  metrics->add_option("id", job_id, "job id")->required();
  metrics->add_flag("-f,--follow", follow, "keep printing until the job has ended");
  metrics->callback([&] {
    chosen_streaming = [&](const cli::session& s) {
      return cli::show_metrics(s, job_id, follow, std::cout);
    };
  });

  add("services", "running serve jobs: replicas and versions", cli::list_services);
  std::string service_name, predict_input, routing_key;
  uint32_t predict_version = 0;
  auto predict =
      add("predict", "one prediction of SERVICE for the rows in INPUT", [&](const cli::session& s) {
        return cli::predict(s, service_name, predict_input, predict_version, routing_key);
      });
  predict->add_option("service", service_name, "the serve job's name")->required();
  predict
      ->add_option("input", predict_input,
                   R"(JSON: {"features": [...]} or {"features": [[...], ...]})")
      ->required();
  predict->add_option("--version", predict_version, "this version, not the traffic split");
  predict->add_option("--routing-key", routing_key,
                      "the same key gets the same version of a split");

  std::string model_ref, model_tenant, model_stage;
  add("models", "registered models, by name", [&](const cli::session& s) {
    return cli::list_models(s, model_tenant);
  })->add_option("--tenant", model_tenant, "only this tenant's models");
  auto model = app.add_subcommand(
      "model", "one model: every version and its history, or NAME@VERSION or NAME@STAGE in full");
  model->add_option("ref", model_ref, "NAME, NAME@VERSION or NAME@staging|production");
  auto promote = model->add_subcommand(
      "promote",
      "move NAME@VERSION to a stage; the version in staging or production before it "
      "is archived");
  promote->add_option("ref", model_ref, "NAME@VERSION")->required();
  promote->add_option("--stage", model_stage, "staging, production, archived or none")->required();
  promote->callback([&] {
    chosen = [&](const cli::session& s) { return cli::promote_model(s, model_ref, model_stage); };
  });
  std::string export_file;
  auto model_export = model->add_subcommand(
      "export", "write the artifact of NAME@VERSION, NAME@STAGE or NAME (its newest) to FILE");
  model_export->add_option("ref", model_ref, "NAME, NAME@VERSION or NAME@staging|production")
      ->required();
  model_export->add_option("file", export_file, "where to write it")->required();
  model_export->callback([&] {
    chosen = [&](const cli::session& s) {
      return cli::export_model(s, model_ref, export_file, std::cerr, ::isatty(STDERR_FILENO));
    };
  });
  cli::model_import_options import;
  auto model_register = model->add_subcommand(
      "register", "import a TorchScript FILE trained elsewhere as the next version of NAME");
  model_register->add_option("name", import.name, "the model's name")->required();
  model_register->add_option("file", import.file, "a TorchScript file (torch.jit.save)")
      ->required();
  model_register->add_option("--input-features", import.input_features,
                             "values per input row (default: not declared)");
  model_register->add_option("--classes", import.classes,
                             "comma-separated labels of a classifier's outputs, in order");
  model_register->add_option(
      "--outputs", import.outputs,
      "logits, probabilities or values (default: probabilities with --classes, else values)");
  model_register->add_option("--tenant", import.tenant, "the tenant (admin keys)");
  model_register->callback([&] {
    chosen = [&](const cli::session& s) {
      return cli::import_model(s, import, std::cerr, ::isatty(STDERR_FILENO));
    };
  });
  model->callback([&] {
    if (promote->parsed() || model_export->parsed() || model_register->parsed()) return;
    if (model_ref.empty()) throw CLI::RequiredError("ref");
    chosen = [&](const cli::session& s) { return cli::show_model(s, model_ref); };
  });

  std::string ttl = "1h", role, tenant, label, out_file, key_id;
  auto join_token = app.add_subcommand("join-token", "join tokens for new nodes");
  join_token->require_subcommand(1);
  auto token_create = join_token->add_subcommand("create", "a new join token");
  token_create->add_option("--ttl", ttl, "how long it may enroll nodes (e.g. 30m, 1h, 7d)");
  token_create->callback(
      [&] { chosen = [&](const cli::session& s) { return cli::create_join_token(s, ttl); }; });
  auto credentials = app.add_subcommand("credentials", "credentials for CLI users");
  credentials->require_subcommand(1);
  auto credential_create =
      credentials->add_subcommand("create", "a new key pair, its public key known to the head");
  credential_create->add_option("--role", role, "admin, or submit (jobs of one tenant)")
      ->required();
  credential_create->add_option("--tenant", tenant, "the tenant a submit key is bound to");
  credential_create->add_option("--out", out_file, "file to write (mode 0600)")->required();
  credential_create->add_option("--label", label, "shown by `troupe keys ls`");
  credential_create->callback([&] {
    chosen = [&](const cli::session& s) {
      return cli::create_credential(s, role, tenant, label.empty() ? out_file : label, out_file);
    };
  });
  auto keys = app.add_subcommand("keys", "keys the head admits");
  keys->require_subcommand(1);
  keys->add_subcommand("ls", "every key, with its role and state")->callback([&] {
    chosen = cli::list_keys;
  });
  auto revoke = keys->add_subcommand("revoke", "refuse KEY from now on and close its connections");
  revoke->add_option("key", key_id, "key id (troupe keys ls)")->required();
  revoke->callback(
      [&] { chosen = [&](const cli::session& s) { return cli::revoke_key(s, key_id); }; });

  cli::token_create_options app_token;
  std::string app_token_name;
  auto tokens = app.add_subcommand("token", "application tokens for the head's HTTP endpoints");
  tokens->require_subcommand(1);
  auto app_token_create = tokens->add_subcommand("create", "a new token, printed once");
  app_token_create->add_option("--name", app_token.name, "unique name, [A-Za-z0-9._-]")->required();
  app_token_create->add_option("--role", app_token.role, "predict, or manage (also reload)")
      ->required();
  app_token_create->add_option("--tenant", app_token.tenant, "only this tenant's services");
  app_token_create
      ->add_option("--rate-limit-per-s", app_token.rate_limit_per_s,
                   "requests per second (default: unlimited)")
      ->check(CLI::NonNegativeNumber);
  app_token_create->add_option("--burst", app_token.burst, "bucket size (default: the rate)")
      ->check(CLI::NonNegativeNumber);
  app_token_create->callback(
      [&] { chosen = [&](const cli::session& s) { return cli::create_app_token(s, app_token); }; });
  tokens->add_subcommand("ls", "every token, without secrets")->callback([&] {
    chosen = cli::list_app_tokens;
  });
  auto app_token_revoke = tokens->add_subcommand("revoke", "refuse token NAME from now on");
  app_token_revoke->add_option("name", app_token_name, "the token's name")->required();
  app_token_revoke->callback([&] {
    chosen = [&](const cli::session& s) { return cli::revoke_app_token(s, app_token_name); };
  });

  cli::data_put_options put;
  std::string data_name, data_file, data_tenant;
  bool all_versions = false;
  auto data = app.add_subcommand("data", "datasets, checkpoints and models kept by the head");
  data->require_subcommand(1);
  auto data_put = data->add_subcommand("put", "upload FILE to the head's artifact store");
  data_put->add_option("file", put.file, "the file to upload")->required();
  data_put->add_option("--name", put.name, "the artifact's name (default: the file's name)");
  data_put->add_option("--tenant", put.tenant, "its tenant (default: the key's own)");
  data_put->add_option("--kind", put.kind, "dataset (default), checkpoint or model");
  data_put->callback([&] {
    chosen = [&](const cli::session& s) {
      return cli::put_data(s, put, std::cerr, ::isatty(STDERR_FILENO));
    };
  });
  auto data_ls = data->add_subcommand("ls", "artifacts, each name's newest version");
  data_ls->add_option("--tenant", data_tenant, "only this tenant's artifacts");
  data_ls->add_flag("--all", all_versions, "every version, not only the newest");
  data_ls->callback([&] {
    chosen = [&](const cli::session& s) { return cli::list_data(s, data_tenant, all_versions); };
  });
  auto data_get = data->add_subcommand("get", "download artifact NAME (or NAME@SHA256) to FILE");
  data_get->add_option("name", data_name, "artifact name, or name@sha256")->required();
  data_get->add_option("file", data_file, "where to write it")->required();
  data_get->add_option("--tenant", data_tenant, "its tenant (default: the key's own)");
  data_get->callback([&] {
    chosen = [&](const cli::session& s) {
      return cli::get_data(s, data_name, data_tenant, data_file, std::cerr,
                           ::isatty(STDERR_FILENO));
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(cli::exit_code::usage);
  }
  auto config = cli::resolve_config(flags, std::getenv);
  if (!config) return report(config.error());
  if (chosen_streaming) {
    auto code = chosen_streaming(cli::session(*config));
    if (!code) return report(code.error());
    return *code;
  }
  auto output = chosen(cli::session(*config));
  if (!output) return report(output.error());
  std::cout << *output;
  return 0;
}
