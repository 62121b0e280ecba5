#include "nodes/trouped/daemon.hpp"

#include <pthread.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <atomic>
#include <caf/all.hpp>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "actors/artifacts/artifact_service.hpp"
#include "actors/atoms.hpp"
#include "actors/inference/prediction_desk.hpp"
#include "actors/inference/replica_relay.hpp"
#include "actors/inference/service_router.hpp"
#include "actors/jobs/job_service.hpp"
#include "actors/membership/membership_actor.hpp"
#include "actors/models/registry_actor.hpp"
#include "actors/node_agent/node_agent.hpp"
#include "actors/runner/runner_actor.hpp"
#include "actors/security/security_actor.hpp"
#include "actors/store/store_actor.hpp"
#include "actors/training/rank_artifacts.hpp"
#include "actors/training/rank_relay.hpp"
#include "actors/training/training_service.hpp"
#include "cluster/host/resources.hpp"
#include "cluster/security/zap_handler.hpp"
#include "messages/safe_text.hpp"
#include "nodes/trouped/actor_watch.hpp"
#include "nodes/trouped/credentials_setup.hpp"
#include "nodes/trouped/http_service.hpp"

namespace troupe::nodes {
namespace {

std::atomic<int> requested_exit_code{0};

// The directory of this executable, where the build and an install put troupe-rank beside it.
std::string own_directory() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

void request_exit(int code) {
  requested_exit_code = code;
  ::kill(::getpid(), SIGTERM);
}

// Where a node agent inside the head reaches its own head.
std::string local_address_of(const std::string& endpoint) {
  auto out = endpoint;
  for (const char* any : {"0.0.0.0", "*"}) {
    auto pos = out.find(any);
    if (pos != std::string::npos) out.replace(pos, std::strlen(any), "127.0.0.1");
  }
  return out;
}

msg::resources offered_resources(const config::daemon_settings& s) {
  auto r = host::detect_resources();
  if (s.cpus) r.cpus = *s.cpus;
  if (s.memory_mb) r.memory_mb = *s.memory_mb;
  if (s.gpus) {
    // Keep the detected GPUs that exist; a larger override adds unnamed ones.
    r.gpus.resize(*s.gpus);
    for (uint32_t i = 0; i < r.gpus.size(); ++i)
      if (r.gpus[i].name.empty()) r.gpus[i] = {i, "unspecified", 0};
  }
  return r;
}

void write_endpoint_file(const std::string& dir, const std::string& endpoint) {
  std::ofstream(dir + "/head_endpoint.tmp") << endpoint << "\n";
  std::rename((dir + "/head_endpoint.tmp").c_str(), (dir + "/head_endpoint").c_str());
}

sigset_t termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

// How to join, printed once at head start. The token is a secret: it goes to a terminal, never
// to the log (a log or journal keeps only the file's path).
void print_join_command(const nodes::head_security& head, const std::string& endpoint) {
  auto address = endpoint;
  for (const char* any : {"0.0.0.0", "*"}) {
    auto pos = address.find(any);
    if (pos != std::string::npos) address.replace(pos, std::strlen(any), host::host_name());
  }
  const auto token =
      ::isatty(STDOUT_FILENO) ? head.join_token : "$(cat " + head.join_token_file + ")";
  std::printf(
      "To join a node to this cluster, run on it:\n  trouped --join %s --token %s "
      "--data-dir DIR\nThe CLI on this machine uses %s\n",
      address.c_str(), token.c_str(), head.admin_credentials_file.c_str());
  std::fflush(stdout);
  spdlog::info("join token in {}; admin credential in {}", head.join_token_file,
               head.admin_credentials_file);
}

int wait_for_signal() {
  auto signals = termination_signals();
  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
  return requested_exit_code;
}

}  // namespace

void block_termination_signals() {
  auto signals = termination_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int run_daemon(const config::daemon_settings& s) {
  auto data = std::make_shared<host::data_dir>(s.data_dir);
  const auto name = s.name.empty() ? host::host_name() : s.name;
  msg::decode_limits limits;
  limits.max_frame_bytes = s.max_frame_bytes;

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", std::max(2u, std::min(4u, std::thread::hardware_concurrency())));
  // One shared queue woken through a condition variable: a request from the socket thread
  // reaches an idle worker at once, where work stealing's idle workers sleep in 50 us steps
  // (measured: control round trip 1.7x -> 1.4x raw ZeroMQ).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  // Declared before the actor system so that they outlive every actor's socket. The rank link
  // has a context of its own: a context has one ZAP handler, and the rank link's admits rank
  // keys, the head's the keys of its registry.
  zmq::context_t context{1};
  zmq::context_t rank_context{1};
  caf::actor_system system{cfg};
  const bool runs_agent = !s.head || !s.no_worker;

  // Everything that can fail comes before the first actor is spawned.
  std::optional<head_security> security;
  std::unique_ptr<security::zap_handler> zap, rank_zap;
  std::shared_ptr<store::cluster_store> db;
  std::vector<store::node_record> known_nodes;
  job_service::job_service_deps job_deps;
  artifact_service::artifact_service_deps artifact_deps;
  actors::wire_endpoint_ptr head_endpoint, agent_endpoint, rank_endpoint;
  std::shared_ptr<security::rank_keys> rank_keys;
  std::shared_ptr<security::rank_link_issuer> rank_link;
  std::optional<transport::curve_keys> node_keys;
  auto app_tokens = std::make_shared<security::app_token_registry>();
  std::string store_url, head_address = s.join;
  if (s.head) {
    store_url = s.store.empty() ? "sqlite://" + data->path() + "/troupe.db" : s.store;
    db = store::open_store(store_url);
    known_nodes = db->membership().load_nodes();
    job_deps.jobs = db->jobs().load_jobs();
    job_deps.attempts = db->jobs().load_attempts();
    job_deps.transitions = db->jobs().load_transitions();
    artifact_deps.artifacts = db->artifacts().load_artifacts();
    app_tokens->load(db->tokens().load_tokens(), security::bucket_clock::now());
    artifact_deps.blobs = std::make_shared<artifacts::blob_store>(data->path() + "/artifacts");
    security = prepare_head_security(data->path());
    // Bound before the head's socket, so that no connection is ever admitted without it.
    zap = std::make_unique<security::zap_handler>(
        context, security->keys, [](const std::string& why) {
          spdlog::critical("{}; stopping: no connection may be admitted unchecked", why);
          request_exit(1);
        });
    try {
      head_endpoint = std::make_shared<actors::wire_endpoint>(
          context, actors::wire_endpoint::role::router_bind, s.listen, limits, "head",
          transport::curve_keys{security->head_keys.public_key, security->head_keys.secret_key, ""},
          security->keys);
    } catch (const zmq::error_t& e) {  // e.g. a host that is no local interface, a taken port
      throw std::runtime_error("cannot bind `listen` " + s.listen + ": " + e.what());
    }
    head_address = local_address_of(head_endpoint->endpoint());
    write_admin_credential(*security, data->path(), head_address);
  }
  node_agent::node_agent_deps agent_deps;
  if (runs_agent) {
    const auto node_id = data->node_id();
    const auto credential =
        s.head ? head_node_credential(*security, data->path(), node_id, name, head_address)
               : node_credential(data->path(), s.join_token, head_address, node_id, name);
    node_keys = security::client_keys(credential);
    agent_endpoint = std::make_shared<actors::wire_endpoint>(
        context, actors::wire_endpoint::role::dealer_connect, head_address, limits, name,
        node_keys);
    agent_deps.endpoint = agent_endpoint;
    agent_deps.data = data;
    agent_deps.node_id = node_id;
    agent_deps.incarnation = data->next_incarnation();
    agent_deps.name = name;
    agent_deps.resources = offered_resources(s);
    agent_deps.labels = s.labels;
    agent_deps.addresses = {host::host_name()};
    agent_deps.register_retry_ms = s.register_retry_ms;
    agent_deps.request_exit = request_exit;

    // The rank link: this node's rank processes reach it on an ipc:// socket in its data dir.
    const auto rank_dir = data->path() + "/ranks";
    const auto link_keys = security::generate_key_pair();
    rank_keys = std::make_shared<security::rank_keys>();
    rank_link = std::make_shared<security::rank_link_issuer>(
        rank_keys, rank_dir, security::rank_link_endpoint(rank_dir), link_keys.public_key);
    rank_zap = std::make_unique<security::zap_handler>(
        rank_context, rank_keys, [](const std::string& why) {
          spdlog::critical("{}; stopping: no rank may connect unchecked", why);
          request_exit(1);
        });
    rank_endpoint = std::make_shared<actors::wire_endpoint>(
        rank_context, actors::wire_endpoint::role::router_bind,
        security::rank_link_endpoint(rank_dir), limits, name,
        transport::curve_keys{link_keys.public_key, link_keys.secret_key, ""}, rank_keys);
  }

  // The head's service router, as its HTTP endpoints ask it (it outlives the HTTP service).
  std::unique_ptr<inference::predictor> predictions;
  // What /metrics shows; the router and the replica relay add the serving figures.
  auto registry = std::make_shared<prometheus::Registry>();

  // Actors spawned from here on are told to exit however this function is left: CAF's
  // actor_system waits for every actor when it is destroyed.
  std::vector<caf::actor> actors;
  struct exit_on_scope_exit {
    std::vector<caf::actor>& actors;
    ~exit_on_scope_exit() {
      for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
  } exit_guard{actors};

  caf::actor membership;
  if (s.head) {
    auto store = actors::spawn_store_actor(system, db, [] { request_exit(1); });
    actors.push_back(store);
    exit_when_it_dies(system, store, "store", request_exit);
    membership::membership_deps deps;
    deps.endpoint = head_endpoint;
    deps.store = store;
    deps.known_nodes = std::move(known_nodes);
    deps.detector = s.failure_detector;
    deps.heartbeat_interval_ms = s.heartbeat_interval_ms;
    deps.head_node_id = runs_agent ? agent_deps.node_id : "";
    deps.self_name = "head";
    spdlog::info("head listening on {} (store {}, {} known nodes)", head_endpoint->endpoint(),
                 msg::without_passwords(store_url), deps.known_nodes.size());
    membership = membership::spawn_membership(system, std::move(deps));
    actors.push_back(membership);
    exit_when_it_dies(system, membership, "membership", request_exit);
    using role = msg::key_role;
    head_endpoint->route<msg::register_node_request>(membership, {role::node});
    head_endpoint->route<msg::heartbeat>(membership, {role::node});
    head_endpoint->route<msg::deregister_node>(membership, {role::node});
    head_endpoint->route<msg::cluster_status_request>(membership, {role::admin});
    head_endpoint->route<msg::node_list_request>(membership, {role::admin});
    head_endpoint->route<msg::drain_node_request>(membership, {role::admin});
    head_endpoint->route<msg::remove_node_request>(membership, {role::admin});
    job_deps.endpoint = head_endpoint;
    job_deps.store = store;
    job_deps.membership = membership;
    job_deps.log_dir = data->path() + "/logs";
    job_deps.self_name = "head";
    auto jobs = job_service::spawn_job_service(system, std::move(job_deps));
    actors.push_back(jobs);
    exit_when_it_dies(system, jobs, "job service", request_exit);
    // The service checks each kind's senders itself (clients: admin or submit; reports: node).
    head_endpoint->route<msg::jobs_message>(jobs, {role::admin, role::submit, role::node});
    artifact_deps.endpoint = head_endpoint;
    artifact_deps.store = store;
    artifact_deps.jobs = jobs;
    artifact_deps.max_artifact_bytes = s.artifact_max_bytes;
    // Half a frame: a chunk and its envelope fit in every decoder's default limit.
    artifact_deps.chunk_bytes = std::min<uint32_t>(512 * 1024, s.max_frame_bytes / 2);
    artifact_deps.upload_idle = std::chrono::milliseconds(s.artifact_upload_idle_ms);
    artifact_deps.self_name = "head";
    auto artifacts = artifact_service::spawn_artifact_service(system, std::move(artifact_deps));
    actors.push_back(artifacts);
    exit_when_it_dies(system, artifacts, "artifact service", request_exit);
    // The service checks each request's role itself (docs/protocol.md, artifacts).
    head_endpoint->route<msg::artifacts_message>(artifacts,
                                                 {role::admin, role::submit, role::node});
    auto security_service = security_service::spawn_security(
        system,
        {head_endpoint, security->keys, security->head_keys.public_key, "head", db, app_tokens});
    actors.push_back(security_service);
    exit_when_it_dies(system, security_service, "security", request_exit);
    // The service checks each request's role itself (enroll: a token's key; the rest: admin).
    head_endpoint->route<msg::security_message>(security_service, {role::admin, role::enroll});
    auto models = model_registry::spawn_model_registry(system, {head_endpoint, db, "head"});
    actors.push_back(models);
    exit_when_it_dies(system, models, "model registry", request_exit);
    head_endpoint->route<msg::models_message>(models, {role::admin, role::submit});
    auto training = training::spawn_training_service(
        system, {head_endpoint, jobs, db, {}, {}, "head", {artifacts, models}, artifacts});
    actors.push_back(training);
    exit_when_it_dies(system, training, "training service", request_exit);
    // The service checks each kind's senders itself (rendezvous: node; metrics: admin, submit).
    head_endpoint->route<msg::training_message>(training, {role::node, role::admin, role::submit});
    // Predictions go from the HTTP threads through the desk; the router keeps its table.
    auto desk = std::make_shared<inference::prediction_desk>(
        transport::curve_keys{security->head_keys.public_key, security->head_keys.secret_key, ""},
        limits, "head", std::make_shared<metrics::cache_counters>(registry),
        std::random_device{}());
    inference::service_router_deps router_deps{
        head_endpoint,
        jobs,
        db,
        "head",
        std::make_shared<metrics::replica_figures>(registry, metrics::replica_figures::scope::head),
        std::make_shared<inference::service_access_board>(),
        desk};
    const auto access = router_deps.access;
    auto router = inference::spawn_service_router(system, std::move(router_deps));
    actors.push_back(router);
    exit_when_it_dies(system, router, "service router", request_exit);
    predictions = inference::router_predictor(router, desk, access);
    // The router checks each kind's senders itself (clients: admin, submit; relayed: node); the
    // nodes' errors answer its predictions.
    head_endpoint->route<msg::inference_message>(router, {role::admin, role::submit, role::node});
    head_endpoint->route<msg::error>(router, {role::node});
    head_endpoint->start();
    write_endpoint_file(data->path(), head_endpoint->endpoint());
    print_join_command(*security, head_endpoint->endpoint());
  }

  caf::actor agent, runner;
  if (runs_agent) {
    runner = runner::spawn_runner_actor(
        system, {agent_endpoint, data->path() + "/tasks", name, rank_link, own_directory(),
                 node_keys ? node_keys->server_public_key : "", s.serve_ports.value_or("")});
    actors.push_back(runner);
    exit_when_it_dies(system, runner, "task runner", request_exit);
    agent_endpoint->route_reply<msg::jobs_message>(runner);
    spdlog::info("node {} joining {} with {} cpus, {} MiB, {} gpus", name, head_address,
                 agent_deps.resources.cpus, agent_deps.resources.memory_mb,
                 agent_deps.resources.gpus.size());
    agent = node_agent::spawn_node_agent(system, std::move(agent_deps));
    actors.push_back(agent);
    exit_when_it_dies(system, agent, "node agent", request_exit);
    agent_endpoint->route_reply<msg::register_node_reply>(agent);
    agent_endpoint->route_reply<msg::heartbeat_rejected>(agent);
    // The ranks' fetches and publishes, over a connection of its own with the node's key.
    auto rank_artifacts = training::spawn_rank_artifacts(
        system, {data->path() + "/artifact-cache", s.artifact_cache_mb << 20, head_address,
                 node_keys, name, rank_keys});
    actors.push_back(rank_artifacts);
    exit_when_it_dies(system, rank_artifacts, "rank artifact worker", request_exit);
    auto replicas = inference::spawn_replica_relay(
        system, {rank_endpoint, agent_endpoint, rank_keys, name,
                 std::make_shared<metrics::replica_figures>(
                     registry, metrics::replica_figures::scope::node)});
    actors.push_back(replicas);
    exit_when_it_dies(system, replicas, "replica relay", request_exit);
    auto relay = training::spawn_rank_relay(
        system, {rank_endpoint, agent_endpoint, rank_keys, agent, replicas, name, rank_artifacts});
    actors.push_back(relay);
    exit_when_it_dies(system, relay, "rank relay", request_exit);
    // The relay tells the head's errors to its own requests apart and gives the agent the rest.
    agent_endpoint->route_reply<msg::error>(relay);
    agent_endpoint->route_reply<msg::training_message>(relay);
    rank_endpoint->route<msg::training_message>(relay, {msg::key_role::rank});
    agent_endpoint->route_reply<msg::inference_message>(replicas);
    // A replica answers the head's predictions with a reply or an error.
    rank_endpoint->route<msg::inference_message>(replicas, {msg::key_role::rank});
    rank_endpoint->route<msg::error>(replicas, {msg::key_role::rank});
    rank_endpoint->start();
    agent_endpoint->start();  // the agent's first registration, queued at its spawn, leaves now
  }

  // Bound once the actors run, so that it can ask the router: a taken port stops the daemon here.
  auto http = make_http_service(s, {data->path(), registry, db,
                                    runs_agent ? std::optional(agent_deps.resources) : std::nullopt,
                                    data->path() + "/tasks", predictions.get(), app_tokens});
  if (http) http->start();

  int exit_code = wait_for_signal();
  http.reset();

  caf::scoped_actor self{system};
  auto shut_down = [&](const caf::actor& actor, const char* what) {
    self->request(actor, std::chrono::seconds(3), actors::shutdown_atom::value)
        .receive([](bool) {},
                 [&](caf::error& e) { spdlog::warn("{}: {}", what, system.render(e)); });
  };
  if (runner) shut_down(runner, "the tasks were not all killed");
  if (agent) {
    shut_down(agent, "the node agent did not deregister");
    agent_endpoint->stop();  // flushes the deregistration (bounded by the socket's linger)
    rank_endpoint->stop();
  }
  if (head_endpoint) {
    shut_down(membership, "the head's own node was not stored as left");
    head_endpoint->stop();
  }
  zap.reset();  // after every socket that asks it is closed
  rank_zap.reset();
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace troupe::nodes
