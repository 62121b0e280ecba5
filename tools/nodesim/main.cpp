// troupe-nodesim: many simulated nodes, each over its own real DEALER socket, registering
// with a head and heartbeating by trouped's own protocol logic (node_agent::agent_protocol).
// For measuring what one head holds.
//
//   troupe-nodesim --head tcp://127.0.0.1:7400 --token TOKEN --credentials ADMIN_FILE
//                  --nodes 1000 --duration-s 30 [--head-pid PID]
//
// Authenticated like real nodes: each simulated node enrolls its own CURVE key with the join
// token (the enrollments pipelined over one link), then speaks over CURVE with it. The admin
// credential is for the final node list.
// Prints the heartbeat rate achieved, and with --head-pid the head's CPU use and RSS over
// the steady part of the run; at the end asks the head how many simulated nodes are alive.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "actors/node_agent/agent_protocol.hpp"
#include "cluster/security/credentials.hpp"
#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"

namespace {

using namespace troupe;
using clock_type = std::chrono::steady_clock;

constexpr uint32_t register_retry_ms = 1000;
// How long all simulated nodes may take to register. Thousands connecting at once overflow
// the head's listen backlog; the kernel resends a dropped SYN after 1, 3, 7, 15, 31 and 63 s.
constexpr auto registration_limit = std::chrono::seconds(120);

struct sim_node {
  zmq::socket_t socket;
  node_agent::agent_protocol protocol;
};

// Simulated node `i` of this run.
node_agent::node_description simulated_node(const std::string& run_id, int i) {
  char id[40];  // 32 hex digits, as node ids are
  std::snprintf(id, sizeof id, "%08x%024x", static_cast<unsigned>(::getpid()),
                static_cast<unsigned>(i));
  node_agent::node_description node{id,
                                    "sim-" + run_id + "-" + std::to_string(i),
                                    {8, 16384, {}},
                                    {{"simulated", "true"}},
                                    {},
                                    "nodesim"};
  return node;
}

// Simulated node `i`'s protocol; its first registration is due at `first_registration`.
node_agent::agent_protocol simulated(const std::string& run_id, int i,
                                     clock_type::time_point first_registration) {
  // A simulated node declared dead takes the next incarnation, kept in memory only.
  auto next_incarnation = [n = uint64_t{1}]() mutable -> std::variant<uint64_t, std::string> {
    return ++n;
  };
  return {simulated_node(run_id, i), 1, next_incarnation, register_retry_ms, first_registration};
}

// Enrolls `count` new node keys for the ids of simulated nodes 0..count-1 with the join token,
// pipelined over one link. Empty on failure (printed).
std::vector<security::key_pair> enroll(zmq::context_t& context, const std::string& head,
                                       const std::string& token_text, const std::string& run_id,
                                       int count) {
  const auto token = security::parse_join_token(token_text);
  zmq::socket_t link(context, zmq::socket_type::dealer);
  link.set(zmq::sockopt::linger, 0);
  link.set(zmq::sockopt::sndhwm, 0);
  link.set(zmq::sockopt::rcvhwm, 0);
  transport::set_client_curve(link, security::client_keys(token));
  link.connect(head);
  std::vector<security::key_pair> keys(static_cast<size_t>(count));
  auto send_enrollment = [&](int i) {
    keys[static_cast<size_t>(i)] = security::generate_key_pair();
    auto node = simulated_node(run_id, i);
    msg::envelope env;
    env.request_id = static_cast<uint64_t>(i) + 1;
    env.sender = node.name;
    env.body = msg::security_message{
        msg::enroll_node_request{node.node_id, keys[static_cast<size_t>(i)].public_key, node.name}};
    link.send(zmq::buffer(msg::encode(env)), zmq::send_flags::none);
  };
  // Within the head's budget of requests in flight per connection (wire_endpoint.hpp).
  constexpr int window = 16;
  int sent = 0;
  while (sent < std::min(window, count)) send_enrollment(sent++);
  const auto deadline = clock_type::now() + std::chrono::seconds(120);
  for (int answered = 0; answered < count;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    zmq::pollitem_t item{link.handle(), 0, ZMQ_POLLIN, 0};
    if (left.count() <= 0 || zmq::poll(&item, 1, left) == 0) {
      std::printf("only %d/%d enrollments answered within 120 s\n", answered, count);
      return {};
    }
    zmq::message_t frame;
    (void)link.recv(frame);
    auto decoded = msg::decode(frame.data(), frame.size());
    auto* env = std::get_if<msg::envelope>(&decoded);
    auto* area = env ? std::get_if<msg::security_message>(&env->body) : nullptr;
    if (!area || !std::holds_alternative<msg::enroll_node_reply>(area->body)) {
      auto* err = env ? std::get_if<msg::error>(&env->body) : nullptr;
      std::printf("an enrollment was refused: %s\n", err ? err->message.c_str() : "bad reply");
      return {};
    }
    ++answered;
    if (sent < count) send_enrollment(sent++);
  }
  return keys;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"troupe-nodesim: simulated nodes against a real head"};
  std::string head;
  int nodes = 1000, duration_s = 30, interval_ms = 200, head_pid = 0;
  std::string token, credentials;
  app.add_option("--head", head, "head address")->required();
  app.add_option("--token", token, "join token the simulated nodes enroll with")->required();
  app.add_option("--credentials", credentials, "admin credential, for the final node list")
      ->required();
  app.add_option("--nodes", nodes, "simulated nodes")->check(CLI::Range(1, 20000));
  app.add_option("--duration-s", duration_s, "seconds of steady heartbeating")
      ->check(CLI::PositiveNumber);
  app.add_option("--interval-ms", interval_ms, "heartbeat period")->check(CLI::PositiveNumber);
  app.add_option("--head-pid", head_pid, "the head's pid, to report its CPU and RSS");
  CLI11_PARSE(app, argc, argv);

  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);

  // Two I/O threads: CURVE for thousands of sockets is more than one thread keeps up with.
  zmq::context_t context{2};
  context.set(zmq::ctxopt::max_sockets, nodes + 16);
  // Registrations spread over one interval; then each node follows the protocol: resends
  // an unanswered registration with backoff, heartbeats every interval once accepted.
  auto interval = std::chrono::milliseconds(interval_ms);
  auto run_id = std::to_string(::getpid());
  const auto admin = security::load_credential(credentials);
  const auto enroll_start = clock_type::now();
  const auto keys = enroll(context, head, token, run_id, nodes);
  if (keys.empty()) return 1;
  std::printf("enrolled %d node keys in %.2f s\n", nodes,
              std::chrono::duration<double>(clock_type::now() - enroll_start).count());
  auto start = clock_type::now();
  std::vector<sim_node> sim;
  sim.reserve(nodes);
  for (int i = 0; i < nodes; ++i) {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    const auto& own = keys[static_cast<size_t>(i)];
    transport::set_client_curve(socket, {own.public_key, own.secret_key, admin.head_public_key});
    socket.connect(head);
    sim.push_back({std::move(socket), simulated(run_id, i, start + interval * i / nodes)});
  }
  size_t registered = 0;
  uint64_t rejected = 0, sent = 0;
  auto carry_out = [&](sim_node& n, const node_agent::agent_actions& actions) {
    for (const auto& env : actions.send) {
      bool beat = std::holds_alternative<msg::heartbeat>(env.body);
      if (n.socket.send(zmq::buffer(msg::encode(env)), zmq::send_flags::dontwait) && beat) ++sent;
    }
  };
  std::vector<zmq::pollitem_t> items;
  for (auto& n : sim) items.push_back({n.socket.handle(), 0, ZMQ_POLLIN, 0});
  auto read_replies = [&](std::chrono::milliseconds wait) {
    zmq::poll(items.data(), items.size(), wait);
    auto now = clock_type::now();
    for (size_t i = 0; i < sim.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      zmq::message_t reply;
      while (sim[i].socket.recv(reply, zmq::recv_flags::dontwait)) {
        auto decoded = msg::decode(reply.data(), reply.size());
        auto* env = std::get_if<msg::envelope>(&decoded);
        if (!env) continue;
        auto& n = sim[i];
        if (std::holds_alternative<msg::heartbeat_rejected>(env->body)) ++rejected;
        // Simulated nodes heartbeat every --interval-ms, whatever the head asks for.
        if (auto* accepted = std::get_if<msg::register_node_reply>(&env->body))
          accepted->heartbeat_interval_ms = static_cast<uint32_t>(interval_ms);
        bool was_registered = n.protocol.registered();
        carry_out(n, n.protocol.on_message(*env, now));
        registered += n.protocol.registered();
        registered -= was_registered;
      }
    }
  };

  local::process_sample head_before{}, head_after{};
  uint64_t sent_at_start = 0;
  clock_type::time_point measure_from{}, end = clock_type::time_point::max();
  double registered_in = 0;
  // How late this simulator itself sent what was due: on a small machine its own load (CURVE
  // handshakes of thousands of sockets) delays heartbeats, which the head rightly sees as silence.
  clock_type::duration worst_lateness{};
  while (clock_type::now() < end) {
    auto now = clock_type::now();
    if (measure_from == clock_type::time_point{} && registered == sim.size()) {
      registered_in = std::chrono::duration<double>(now - start).count();
      std::printf("registered %zu/%d simulated nodes in %.2f s\n", registered, nodes,
                  registered_in);
      measure_from = now + std::chrono::seconds(1);  // settle for a second before measuring
      end = measure_from + std::chrono::seconds(duration_s);
    }
    if (measure_from != clock_type::time_point{} && now >= measure_from && sent_at_start == 0) {
      sent_at_start = sent;
      if (head_pid) head_before = local::sample_process(head_pid);
    }
    if (now - start > registration_limit && registered < sim.size()) {
      std::printf("only %zu/%d nodes registered within %lld s (simulator at worst %.0f ms late)\n",
                  registered, nodes, static_cast<long long>(registration_limit.count()),
                  std::chrono::duration<double, std::milli>(worst_lateness).count());
      return 1;
    }
    auto next_wake = now + interval;
    for (auto& n : sim) {
      auto due = n.protocol.next_due();
      if (due && *due <= now) {
        worst_lateness = std::max(worst_lateness, now - *due);
        carry_out(n, n.protocol.on_tick(now, {}));
        due = n.protocol.next_due();
      }
      if (due) next_wake = std::min(next_wake, *due);
    }
    auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_wake - clock_type::now());
    read_replies(std::max(wait, std::chrono::milliseconds(0)));
  }
  if (head_pid) head_after = local::sample_process(head_pid);
  std::printf("simulator: a message due was sent at worst %.0f ms late (its own load)\n",
              std::chrono::duration<double, std::milli>(worst_lateness).count());
  double rate = static_cast<double>(sent - sent_at_start) / duration_s;
  std::printf("heartbeats sent: %.0f /s over %d s (%d nodes every %d ms); %lu rejected\n", rate,
              duration_s, nodes, interval_ms, static_cast<unsigned long>(rejected));
  if (head_pid) {
    double cpu = (head_after.cpu_seconds - head_before.cpu_seconds) / duration_s;
    std::printf("head cpu: %.1f%% of one core; head rss: %.1f MiB\n", cpu * 100,
                head_after.rss_kb / 1024.0);
  }

  transport::request_client client(head, "nodesim", security::client_keys(admin));
  auto reply = client.call(msg::node_list_request{}, std::chrono::seconds(10));
  size_t alive = 0, other = 0;
  if (reply)
    if (auto* list = std::get_if<msg::node_list_reply>(&reply->body))
      for (const auto& n : list->nodes)
        if (n.name.rfind("sim-" + run_id + "-", 0) == 0)
          (n.state == msg::node_state::alive ? alive : other) += 1;
  std::printf("simulated nodes alive at the head: %zu/%d (%zu in another state)\n", alive, nodes,
              other);
  // A rejection means the head declared a simulated node dead (or forgot it) during the run.
  return alive == static_cast<size_t>(nodes) && rejected == 0 ? 0 : 1;
}
