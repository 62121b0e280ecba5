// troupe: the admin CLI. Parses the command line, resolves the config, runs one command
// (tools/cli/commands/) and prints its output, or its failure as one line on stderr.
//
// Exit codes: 0 success, 1 the head answered with an error, 2 bad usage, 3 no answer.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <functional>
#include <iostream>

#include "tools/cli/commands/cluster.hpp"

namespace {

using namespace troupe;
using command = std::function<cli::command_output(const cli::session&)>;

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(cli::exit_code::usage);
  }
  auto config = cli::resolve_config(flags, std::getenv);
  if (!config) return report(config.error());
  auto output = chosen(cli::session(*config));
  if (!output) return report(output.error());
  std::cout << *output;
  return 0;
}
