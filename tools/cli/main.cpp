// troupe: the admin CLI. Reads go to the head as Cap'n Proto requests over ZeroMQ; every
// read command prints a table, or JSON with --json.
//
// Exit codes: 0 success, 1 the head answered with an error, 2 bad usage, 3 no answer.
#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cluster/transport/request_client.hpp"
#include "tools/cli/render.hpp"

namespace {

using namespace troupe;

constexpr int exit_head_error = 1, exit_usage = 2, exit_unreachable = 3;
constexpr const char* default_head = "tcp://127.0.0.1:7400";

// --head wins, then TROUPE_HEAD, then `head_address:` in the CLI config file (--config, else
// $TROUPE_CONFIG, else ~/.config/troupe/config.yaml), then the local default. A config
// file named by flag or environment must exist; the default one may be absent.
std::string resolve_head(const std::string& flag, std::string config_file) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TROUPE_HEAD"); env && *env) return env;
  bool named = true;
  if (config_file.empty()) {
    if (const char* env = std::getenv("TROUPE_CONFIG"); env && *env) {
      config_file = env;
    } else if (const char* home = std::getenv("HOME")) {
      config_file = std::string(home) + "/.config/troupe/config.yaml";
      named = false;
    }
  }
  try {
    if (auto head = YAML::LoadFile(config_file)["head_address"]) return head.as<std::string>();
  } catch (const YAML::BadFile&) {
    if (named) throw std::runtime_error("config " + config_file + ": cannot read the file");
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("config " + config_file + ": " + e.msg);
  }
  return default_head;
}

struct session {
  std::string head;
  std::chrono::milliseconds timeout;
  bool json = false;

  // Sends `body`; returns the reply body, or exits with a one-line error.
  msg::body call(msg::body body) const {
    transport::request_client client(head, "troupe-cli");
    auto reply = client.call(std::move(body), timeout);
    if (!reply) {
      std::cerr << "troupe: no reply from the head at " << head << " within " << timeout.count()
                << " ms (is `trouped --head` running there?)\n";
      std::exit(exit_unreachable);
    }
    if (auto* err = std::get_if<msg::error>(&reply->body)) {
      std::cerr << "troupe: " << err->message << " (" << msg::to_string(err->code) << ")\n";
      std::exit(exit_head_error);
    }
    if (std::holds_alternative<msg::unimplemented>(reply->body)) {
      std::cerr << "troupe: the head at " << head << " does not implement this request\n";
      std::exit(exit_head_error);
    }
    return std::move(reply->body);
  }

  template <class Reply>
  Reply call_for(msg::body body) const {
    auto reply = call(std::move(body));
    if (auto* r = std::get_if<Reply>(&reply)) return std::move(*r);
    std::cerr << "troupe: unexpected reply kind from the head\n";
    std::exit(exit_head_error);
  }
};

// Texts come from nodes; a byte that is not UTF-8 is shown as U+FFFD rather than failing.
void print_json(const nlohmann::json& value) {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void show_status(const session& s) {
  auto status = s.call_for<msg::cluster_status_reply>(msg::cluster_status_request{});
  if (s.json)
    print_json(cli::to_json(status));
  else
    std::cout << cli::status_text(status, s.head);
}

void show_nodes(const session& s) {
  auto list = s.call_for<msg::node_list_reply>(msg::node_list_request{});
  // The head first, then by name.
  std::stable_sort(list.nodes.begin(), list.nodes.end(), [](const auto& a, const auto& b) {
    return std::make_pair(!a.is_head, a.name) < std::make_pair(!b.is_head, b.name);
  });
  if (s.json) {
    auto out = nlohmann::json::array();
    for (const auto& n : list.nodes) out.push_back(cli::to_json(n));
    print_json(out);
  } else {
    std::cout << cli::nodes_table(list.nodes);
  }
}

void set_drain(const session& s, const std::string& node, bool drain) {
  auto reply = s.call_for<msg::drain_node_reply>(msg::drain_node_request{node, drain});
  if (s.json)
    print_json(cli::to_json(reply.node));
  else
    std::cout << "node " << reply.node.name << " (" << reply.node.node_id << ") "
              << (drain ? "drains: it takes no new work" : "is no longer draining") << "; state "
              << msg::to_string(reply.node.state) << "\n";
}

void remove_node(const session& s, const std::string& node) {
  auto reply = s.call_for<msg::remove_node_reply>(msg::remove_node_request{node});
  if (s.json)
    print_json({{"id", reply.node_id}, {"name", reply.name}, {"removed", true}});
  else
    std::cout << "node " << reply.name << " (" << reply.node_id << ") removed\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe: the Troupe admin CLI", "troupe"};
  app.set_version_flag("--version", std::string("troupe ") + TROUPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  std::string head_flag, config_file, node;
  int timeout_ms = 3000;
  bool json = false;
  app.add_option("--head", head_flag, "head address tcp://HOST:PORT (else $TROUPE_HEAD, config)");
  app.add_option("--config", config_file, "CLI config file (default ~/.config/troupe/config.yaml)");
  app.add_option("--timeout-ms", timeout_ms, "how long to wait for the head")
      ->check(CLI::Range(1, 600000));
  app.add_flag("--json", json, "print JSON instead of tables");
  auto status = app.add_subcommand("status", "cluster summary");
  auto nodes = app.add_subcommand("nodes", "every node and its state");
  auto drain = app.add_subcommand("drain", "finish work on NODE and take no new work");
  drain->add_option("node", node, "node name or id")->required();
  auto undrain = app.add_subcommand("undrain", "let NODE take work again");
  undrain->add_option("node", node, "node name or id")->required();
  auto remove = app.add_subcommand("remove", "forget NODE, which must be dead or left");
  remove->add_option("node", node, "node name or id")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }
  session s;
  try {
    s.head = resolve_head(head_flag, config_file);
  } catch (const std::exception& e) {
    std::cerr << "troupe: " << e.what() << "\n";
    return exit_usage;
  }
  s.timeout = std::chrono::milliseconds(timeout_ms);
  s.json = json;
  try {
    if (status->parsed()) show_status(s);
    if (nodes->parsed()) show_nodes(s);
    if (drain->parsed()) set_drain(s, node, true);
    if (undrain->parsed()) set_drain(s, node, false);
    if (remove->parsed()) remove_node(s, node);
  } catch (const zmq::error_t& e) {
    std::cerr << "troupe: cannot reach " << s.head << ": " << e.what() << "\n";
    return exit_usage;
  }
  return 0;
}
